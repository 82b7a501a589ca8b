/* Shared by the student pages and the administration pages: the JSON API
 * call, the strings table, small DOM helpers and the page header.
 * Plain browser JavaScript, no build step. */
"use strict";
window.WebLab = (function () {
    var path = location.pathname;
    var at = path.indexOf("/weblab/");
    /* "/weblab/" or "/<base-url>/weblab/": the deployment's prefix */
    var base = at >= 0 ? path.slice(0, at + 8) : "/weblab/";

    var WebLab = {
        base: base,
        jsonUrl: base + "json/",
        loginUrl: base + "login/json/",
        clientUrl: base + "client/"
    };

    /* ---- strings ---- */

    function pickLocale() {
        var q = /[?&]locale=([a-zA-Z_-]+)/.exec(location.search);
        var tables = window.WEBLAB_STRINGS || {};
        var wanted = q ? [q[1]] : (navigator.languages || [navigator.language || "en"]);

        for (var i = 0; i < wanted.length; i++) {
            var code = String(wanted[i]).toLowerCase();
            if (tables[code]) { return code; }
            if (tables[code.split("-")[0]]) { return code.split("-")[0]; }
        }
        return "en";
    }
    WebLab.locale = pickLocale();

    /* The text of key with {placeholders} filled from vars. */
    WebLab.t = function (key, vars) {
        var tables = window.WEBLAB_STRINGS || {};
        var table = tables[WebLab.locale] || {};
        var text = table[key] !== undefined ? table[key]
            : (tables.en && tables.en[key] !== undefined ? tables.en[key] : key);

        return text.replace(/\{(\w+)\}/g, function (m, name) {
            return vars && vars[name] !== undefined ? String(vars[name]) : m;
        });
    };

    /* Fill data-i18n (text) and data-i18n-attr ("attr:key;attr:key"). */
    WebLab.applyStrings = function (root) {
        root = root || document;
        document.documentElement.lang = WebLab.locale;
        Array.prototype.forEach.call(root.querySelectorAll("[data-i18n]"), function (el) {
            el.textContent = WebLab.t(el.getAttribute("data-i18n"));
        });
        Array.prototype.forEach.call(root.querySelectorAll("[data-i18n-attr]"), function (el) {
            el.getAttribute("data-i18n-attr").split(";").forEach(function (pair) {
                var kv = pair.split(":");
                if (kv.length === 2) { el.setAttribute(kv[0].trim(), WebLab.t(kv[1].trim())); }
            });
        });
    };

    /* ---- the JSON API ---- */

    /* Resolves with the result; rejects with {code, message}. The session
     * travels in the weblabsessionid cookie the server sets at login. */
    WebLab.call = function (method, params, url) {
        return fetch(url || WebLab.jsonUrl, {
            method: "POST",
            credentials: "same-origin",
            headers: {"Content-Type": "application/json"},
            body: JSON.stringify({method: method, params: params || {}})
        }).then(function (resp) {
            if (!resp.ok) {
                throw {code: "HTTP." + resp.status, message: WebLab.t("error.network")};
            }
            return resp.json();
        }, function () {
            throw {code: "network", message: WebLab.t("error.network")};
        }).then(function (doc) {
            if (doc.is_exception) {
                throw {code: doc.code, message: doc.message};
            }
            return doc.result;
        });
    };

    WebLab.isSessionLost = function (err) {
        return err && err.code === "JSON:Client.SessionNotFound";
    };

    /* ---- DOM ---- */

    WebLab.$ = function (id) { return document.getElementById(id); };

    /* el("a", {href: "x", class: "y"}, "text" or [children]) */
    WebLab.el = function (tag, attrs, children) {
        var node = document.createElement(tag);

        Object.keys(attrs || {}).forEach(function (name) {
            var v = attrs[name];
            if (v === null || v === undefined || v === false) { return; }
            if (name === "text") { node.textContent = v; }
            else if (name.slice(0, 2) === "on") { node.addEventListener(name.slice(2), v); }
            else { node.setAttribute(name, v === true ? "" : v); }
        });
        [].concat(children === undefined ? [] : children).forEach(function (c) {
            if (c === null || c === undefined) { return; }
            node.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
        });
        return node;
    };

    WebLab.clear = function (node) {
        while (node.firstChild) { node.removeChild(node.firstChild); }
        return node;
    };

    /* Move the keyboard and screen-reader focus to a heading or region. */
    WebLab.focus = function (node) {
        if (!node) { return; }
        if (!node.hasAttribute("tabindex")) { node.setAttribute("tabindex", "-1"); }
        node.focus();
    };

    /* ---- formatting ---- */

    WebLab.duration = function (seconds) {
        var s = Math.max(0, Math.round(seconds));
        var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);

        s = s % 60;
        if (h) { return WebLab.t("time.h_min", {h: h, m: m}); }
        if (m && s) { return WebLab.t("time.min_s", {m: m, s: s}); }
        if (m) { return WebLab.t("time.min", {m: m}); }
        return WebLab.t("time.s", {s: s});
    };

    /* "4:05" for a countdown */
    WebLab.clock = function (seconds) {
        var s = Math.max(0, Math.floor(seconds));
        var m = Math.floor(s / 60);

        s = s % 60;
        return m + ":" + (s < 10 ? "0" : "") + s;
    };

    /* An ISO date of the server (UTC, no zone) in the reader's time. */
    WebLab.date = function (iso) {
        if (!iso || typeof iso !== "string") { return ""; }
        var d = new Date(iso.replace(" ", "T").replace(/(\.\d{3})\d*/, "$1") + "Z");
        return isNaN(d.getTime()) ? iso : d.toLocaleString(WebLab.locale);
    };

    WebLab.epochDate = function (epoch) {
        return epoch ? new Date(epoch * 1000).toLocaleString(WebLab.locale) : "";
    };

    /* ---- the header ---- */

    /* Fill the header: who is logged in, the administration link when the
     * user may see it, and the log-out button (onLogout after logging out). */
    WebLab.header = function (user, onLogout, options) {
        var box = WebLab.clear(WebLab.$("user-box"));
        options = options || {};
        if (!user) { return; }
        box.appendChild(WebLab.el("span", {"class": "who"},
            WebLab.t("app.signed_in_as", {name: user.full_name || user.login})));
        if (options.labsLink) {
            box.appendChild(WebLab.el("a", {href: WebLab.clientUrl, "class": "nav-link"},
                WebLab.t("app.labs")));
        }
        if (user.admin_url || user.instructor_url) {
            box.appendChild(WebLab.el("a", {href: WebLab.clientUrl + "admin/", "class": "nav-link"},
                WebLab.t("app.admin")));
        }
        box.appendChild(WebLab.el("button", {type: "button", id: "logout", "class": "secondary",
            onclick: function () {
                WebLab.call("logout").then(onLogout, onLogout);
            }}, WebLab.t("app.logout")));
    };

    return WebLab;
})();
