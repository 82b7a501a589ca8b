/* Shared by the administration pages: who may see what, the section
 * navigation, messages and small table and form helpers. Every action is
 * checked again on the server (the admin_* JSON methods): hiding a link
 * here is only a convenience. */
"use strict";
window.WebLabAdmin = (function () {
    var W = WebLab, $ = W.$, t = W.t;
    var A = {};

    var PAGES = [
        {key: "overview", file: "./", admin: false},
        {key: "users", file: "users.html", admin: true},
        {key: "groups", file: "groups.html", admin: true},
        {key: "permissions", file: "permissions.html", admin: true},
        {key: "experiments", file: "experiments.html", admin: true},
        {key: "uses", file: "uses.html", admin: false},
        {key: "live", file: "live.html", admin: true}
    ];
    A.ROLES = ["student", "instructor", "administrator", "federated"];

    function nav(me, current) {
        var ul = W.el("ul");
        PAGES.forEach(function (p) {
            if (p.admin && !me.is_admin) { return; }
            ul.appendChild(W.el("li", {}, W.el("a", {
                href: p.file, "aria-current": p.key === current ? "page" : null
            }, t("admin." + p.key))));
        });
        W.clear($("admin-nav")).appendChild(ul);
    }

    /* Start a page: needsAdmin pages refuse instructors. ready(me) runs
     * once the page may be shown; me = admin_whoami's answer. */
    A.start = function (needsAdmin, ready) {
        var current = document.body.getAttribute("data-page");
        W.applyStrings();
        W.call("get_user_information").then(function (user) {
            W.header(user, function () { location.assign("../?reason=logout"); }, {labsLink: true});
            return W.call("admin_whoami");
        }).then(function (me) {
            A.me = me;
            if (!me.is_admin && !me.is_instructor) {
                A.say(t("admin.denied"), true);
                return;
            }
            nav(me, current);
            if (needsAdmin && !me.is_admin) {
                A.say(t("admin.denied_page"), true);
                return;
            }
            $("page").hidden = false;
            ready(me);
        }).catch(function (err) {
            if (W.isSessionLost(err)) {
                location.replace("../?reason=session");
            } else {
                A.say(t("admin.failed", {message: err.message}), true);
            }
        });
    };

    /* One message line at the top (a polite live region). */
    A.say = function (text, isError) {
        var box = $("admin-message");
        box.className = isError ? "error" : "ok";
        box.textContent = text;
    };

    /* Call an admin method; on success say okText (or "Done.") and run
     * then(); on failure say why. Returns the promise of the result. */
    A.run = function (method, params, okText, then) {
        return W.call(method, params).then(function (r) {
            A.say(okText || t("admin.done"));
            if (then) { then(r); }
            return r;
        }, function (err) {
            if (W.isSessionLost(err)) { location.replace("../?reason=session"); }
            A.say(t("admin.failed", {message: err.message}), true);
            throw err;
        });
    };

    /* A form's fields as an object of trimmed strings (checkboxes: bool;
     * multiple selects: arrays). */
    A.values = function (form) {
        var out = {};
        Array.prototype.forEach.call(form.elements, function (el) {
            if (!el.name) { return; }
            if (el.type === "checkbox") { out[el.name] = el.checked; }
            else if (el.multiple) {
                out[el.name] = Array.prototype.filter.call(el.options, function (o) {
                    return o.selected;
                }).map(function (o) { return o.value; });
            } else { out[el.name] = el.value.trim(); }
        });
        return out;
    };

    /* Replace a select's options: values are strings or {value, label}. */
    A.options = function (select, values, emptyLabel) {
        var keep = select.value;
        W.clear(select);
        if (emptyLabel !== undefined) {
            select.appendChild(W.el("option", {value: ""}, emptyLabel));
        }
        values.forEach(function (v) {
            var o = typeof v === "string" ? {value: v, label: v} : v;
            select.appendChild(W.el("option", {value: o.value}, o.label));
        });
        if (keep) { select.value = keep; }
    };

    A.datalist = function (id, values) {
        var list = W.clear($(id));
        values.forEach(function (v) { list.appendChild(W.el("option", {value: v})); });
    };

    /* Fill tbody with one row per item; cells(item) gives the cells, each
     * a string, a node or {th: true, label, content, num}. */
    A.rows = function (tbody, items, cells, emptyText, columns) {
        W.clear(tbody);
        if (!items.length && emptyText) {
            tbody.appendChild(W.el("tr", {}, W.el("td", {colspan: columns || 1}, emptyText)));
            return;
        }
        items.forEach(function (item) {
            tbody.appendChild(W.el("tr", {}, cells(item).map(function (c, i) {
                var spec = c && typeof c === "object" && c.content !== undefined ? c : {content: c};
                var header = tbody.parentNode.tHead
                    ? tbody.parentNode.tHead.rows[0].cells[i] : null;
                return W.el(i === 0 ? "th" : "td", {
                    scope: i === 0 ? "row" : null,
                    "class": spec.num ? "num" : null,
                    "data-label": header ? header.textContent : null
                }, spec.content);
            })));
        });
    };

    A.badge = function (text, kind) {
        return W.el("span", {"class": "badge " + kind}, text);
    };

    A.button = function (label, onclick, kind, extraLabel) {
        return W.el("button", {type: "button", "class": "small " + (kind || "secondary"),
                               "aria-label": extraLabel || null, onclick: onclick}, label);
    };

    /* Open a <dialog>, fill its form with values, call onSave(values) on
     * submit; the dialog closes when onSave's promise resolves. */
    A.dialog = function (dialog, title, values, onSave) {
        var form = dialog.querySelector("form");
        dialog.querySelector("h2").textContent = title;
        Object.keys(values).forEach(function (k) {
            if (form.elements[k]) { form.elements[k].value = values[k]; }
        });
        form.onsubmit = function (ev) {
            ev.preventDefault();
            onSave(A.values(form)).then(function () { dialog.close(); }, function () {});
        };
        dialog.querySelector("[data-cancel]").onclick = function () { dialog.close(); };
        dialog.showModal();
    };

    /* "exp@cat" as {exp_name, cat_name} ("" parts when missing). */
    A.splitExp = function (id) {
        var at = (id || "").indexOf("@");
        return at < 0 ? {exp_name: id || "", cat_name: ""}
                      : {exp_name: id.slice(0, at), cat_name: id.slice(at + 1)};
    };

    return A;
})();
