/* Users: list, add one, add many from CSV, edit, reset a password,
 * disable or enable. */
"use strict";
WebLabAdmin.start(true, function (me) {
    var W = WebLab, A = WebLabAdmin, t = W.t, $ = W.$;

    function load() {
        return Promise.all([W.call("admin_list_users"), W.call("admin_list_groups")])
            .then(function (r) { render(r[0], r[1]); });
    }

    function render(users, groups) {
        var names = groups.map(function (g) { return g.name; });
        A.options($("u-groups"), names);
        A.options($("csv-group"), names, t("users.no_group"));
        A.rows($("users"), users, function (u) {
            return [
                u.login, u.full_name, u.email, u.role, u.groups.join(", "),
                A.badge(u.disabled ? t("users.disabled") : t("users.enabled"),
                        u.disabled ? "bad" : "ok"),
                W.el("div", {"class": "actions"}, [
                    A.button(t("users.edit"), function () { edit(u); }, null,
                             t("users.edit") + " " + u.login),
                    A.button(t("users.reset"), function () { reset(u); }, null,
                             t("users.reset") + " " + u.login),
                    u.login === me.login ? null : A.button(
                        u.disabled ? t("users.enable") : t("users.disable"),
                        function () {
                            A.run("admin_set_disabled", {login: u.login, disabled: !u.disabled})
                                .then(load);
                        }, u.disabled ? null : "danger",
                        (u.disabled ? t("users.enable") : t("users.disable")) + " " + u.login)
                ])
            ];
        });
    }

    function edit(u) {
        A.dialog($("edit-dialog"), t("users.edit_title", {login: u.login}),
                 {full_name: u.full_name, email: u.email, role: u.role || "student"},
                 function (v) {
                     v.login = u.login;
                     return A.run("admin_edit_user", v).then(load);
                 });
    }

    function reset(u) {
        A.dialog($("password-dialog"), t("users.reset_title", {login: u.login}), {password: ""},
                 function (v) {
                     return A.run("admin_set_password", {login: u.login, password: v.password});
                 });
    }

    [$("u-role"), $("csv-role"), $("e-role")].forEach(function (s) { A.options(s, A.ROLES); });

    $("add-user").addEventListener("submit", function (ev) {
        var form = ev.target;
        ev.preventDefault();
        A.run("admin_add_user", A.values(form)).then(function () {
            form.reset();
            return load();
        }, function () { form.elements.login.focus(); });
    });
    $("add-csv").addEventListener("submit", function (ev) {
        var form = ev.target, v = A.values(form);
        ev.preventDefault();
        W.call("admin_add_users_csv", v).then(function (r) {
            A.say(t("users.csv_added", {count: r.added}));
            form.reset();
            return load();
        }, function (err) { A.say(t("admin.failed", {message: err.message}), true); });
    });
    load();
});
