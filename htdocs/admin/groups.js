/* Groups: list, add, remove; membership; instructors of a group. */
"use strict";
WebLabAdmin.start(true, function () {
    var W = WebLab, A = WebLabAdmin, t = W.t, $ = W.$;

    function load() {
        return Promise.all([W.call("admin_list_groups"), W.call("admin_list_users")])
            .then(function (r) { render(r[0], r[1]); });
    }

    function render(groups, users) {
        var names = groups.map(function (g) { return g.name; });
        A.options($("g-parent"), names, t("groups.no_parent"));
        A.options($("m-group"), names);
        A.options($("i-group"), names);
        A.datalist("logins", users.map(function (u) { return u.login; }));
        A.rows($("groups"), groups, function (g) {
            return [
                g.name, g.parent || "", g.members.join(", ") || t("admin.none"),
                A.button(t("admin.remove"), function () {
                    if (confirm(t("admin.confirm_remove", {what: g.name}))) {
                        A.run("admin_remove_group", {name: g.name}).then(load);
                    }
                }, "danger", t("admin.remove") + " " + g.name)
            ];
        });
    }

    $("add-group").addEventListener("submit", function (ev) {
        var form = ev.target;
        ev.preventDefault();
        A.run("admin_add_group", A.values(form)).then(function () {
            form.reset();
            return load();
        });
    });
    $("membership").addEventListener("submit", function (ev) {
        var v = A.values(ev.target), add = !ev.submitter || ev.submitter.value === "add";
        ev.preventDefault();
        A.run(add ? "admin_add_group_member" : "admin_remove_group_member", v).then(load);
    });
    $("instructor").addEventListener("submit", function (ev) {
        var v = A.values(ev.target), grant = !ev.submitter || ev.submitter.value === "grant";
        ev.preventDefault();
        A.run(grant ? "admin_grant_instructor" : "admin_revoke_instructor", v);
    });
    load();
});
