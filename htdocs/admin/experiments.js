/* Experiments and their lab instances, with each instance's health as the
 * scheduler sees it (working, broken with the reason, not scheduled yet)
 * and who is using it. */
"use strict";
WebLabAdmin.start(true, function () {
    var W = WebLab, A = WebLabAdmin, t = W.t, $ = W.$;

    function load() {
        return Promise.all([W.call("admin_list_experiments"), W.call("admin_list_instances")])
            .then(function (r) { render(r[0], r[1]); });
    }

    function params(e) {
        return Object.keys(e.params).map(function (k) {
            return k + "=" + e.params[k].value;
        }).join(", ");
    }

    function health(i) {
        var kind = i.health === "working" ? "ok" : i.health === "broken" ? "bad" : "warn";
        var label = t("exps.health." + i.health);
        return W.el("span", {}, [A.badge(label, kind),
                                 i.error ? W.el("span", {"class": "help"}, " " + i.error) : null]);
    }

    /* the URL, and the instance's health checks under it (weblab-admin
     * instance checkers sets them) */
    function where(i) {
        var url = i.url + (i.api ? " (API " + i.api + ")" : "");
        if (!i.checkers || !i.checkers.length) { return url; }
        return W.el("span", {}, [url, W.el("br"), W.el("span", {"class": "help"},
            t("exps.checks") + ": " + i.checkers.map(function (c) {
                return c.type + " " + c.target;
            }).join(", "))]);
    }

    function render(exps, insts) {
        A.options($("n-exp"), exps.map(function (e) { return e.name + "@" + e.category; }));
        A.rows($("exps"), exps, function (e) {
            var id = e.name + "@" + e.category;
            return [e.name, e.category, e.client || "", params(e), {content: String(e.instances), num: true},
                    A.button(t("admin.remove"), function () {
                        if (confirm(t("admin.confirm_remove", {what: id}))) {
                            A.run("admin_remove_experiment", {experiment: id}).then(load);
                        }
                    }, "danger", t("admin.remove") + " " + id)];
        });
        A.rows($("instances"), insts, function (i) {
            var id = i.experiment + "@" + i.category;
            return [i.instance, id, i.resource_instance + "@" + i.resource_type,
                    where(i), health(i),
                    i.user ? i.user + " (" + i.state + ")" : "",
                    A.button(t("admin.remove"), function () {
                        if (confirm(t("admin.confirm_remove", {what: i.instance + ":" + id}))) {
                            A.run("admin_remove_instance", {experiment: id, instance: i.instance})
                                .then(load);
                        }
                    }, "danger", t("admin.remove") + " " + i.instance)];
        }, t("admin.none"), 7);
    }

    /* "name=value" lines; numbers and true/false keep their JSON type */
    function parseParams(text) {
        var out = {};
        text.split("\n").forEach(function (line) {
            var eq = line.indexOf("="), k, v;
            if (eq <= 0) { return; }
            k = line.slice(0, eq).trim();
            v = line.slice(eq + 1).trim();
            if (/^(true|false)$/i.test(v)) { out[k] = v.toLowerCase() === "true"; }
            else if (/^-?\d+$/.test(v)) { out[k] = parseInt(v, 10); }
            else if (/^-?\d*\.\d+$/.test(v)) { out[k] = parseFloat(v); }
            else { out[k] = v; }
        });
        return out;
    }

    $("add-exp").addEventListener("submit", function (ev) {
        var form = ev.target, v = A.values(form);
        ev.preventDefault();
        v.params = parseParams(v.params);
        A.run("admin_add_experiment", v).then(function () { form.reset(); return load(); });
    });
    $("add-inst").addEventListener("submit", function (ev) {
        var form = ev.target;
        ev.preventDefault();
        A.run("admin_add_instance", A.values(form)).then(function () { form.reset(); return load(); });
    });
    load();
});
