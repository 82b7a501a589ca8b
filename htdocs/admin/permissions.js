/* Permissions: every permission of every holder; give or revoke the
 * permission to use an experiment (experiment_allowed) with its time,
 * priority and whether the lab's start-up counts. */
"use strict";
WebLabAdmin.start(true, function () {
    var W = WebLab, A = WebLabAdmin, t = W.t, $ = W.$;
    var holders = {user: [], group: [], role: A.ROLES};

    function load() {
        return Promise.all([W.call("admin_list_permissions"), W.call("admin_list_experiments"),
                            W.call("admin_list_users"), W.call("admin_list_groups")])
            .then(function (r) {
                holders.user = r[2].map(function (u) { return u.login; });
                holders.group = r[3].map(function (g) { return g.name; });
                A.options($("p-exp"), r[1].map(function (e) { return e.name + "@" + e.category; }));
                whoList();
                render(r[0]);
            });
    }

    function whoList() {
        A.datalist("who-list", holders[$("p-scope").value] || []);
    }

    function details(p) {
        var q = p.params;
        if (p.type === "experiment_allowed") {
            return q.experiment_permanent_id + "@" + q.experiment_category_id + " · "
                + W.duration(Number(q.time_allowed)) + " · "
                + t("perms.priority_short", {priority: q.priority || "5"})
                + (String(q.initialization_in_accounting).toLowerCase() === "false"
                   ? "" : " · " + t("perms.init_short"));
        }
        return Object.keys(q).map(function (k) { return k + "=" + q[k]; }).join(", ");
    }

    function render(perms) {
        A.rows($("perms"), perms, function (p) {
            var revoke = null;
            if (p.type === "experiment_allowed") {
                revoke = A.button(t("perms.revoke"), function () {
                    if (!confirm(t("admin.confirm_remove", {what: p.permanent_id}))) { return; }
                    A.run("admin_revoke", {scope: p.scope, who: p.who,
                                           exp_name: p.params.experiment_permanent_id,
                                           cat_name: p.params.experiment_category_id}).then(load);
                }, "danger", t("perms.revoke") + " " + p.permanent_id);
            } else if (p.type === "instructor_of_group" && p.scope === "user") {
                revoke = null;  /* managed on the groups page */
            }
            return [p.who, t("perms.scope." + p.scope), p.type, details(p), revoke || ""];
        });
    }

    $("p-scope").addEventListener("change", whoList);
    $("grant").addEventListener("submit", function (ev) {
        var v = A.values(ev.target);
        ev.preventDefault();
        W.call("admin_grant", v).then(function (r) {
            A.say(r.updated ? t("perms.updated") : t("perms.granted"));
            return load();
        }, function (err) { A.say(t("admin.failed", {message: err.message}), true); });
    });
    load();
});
