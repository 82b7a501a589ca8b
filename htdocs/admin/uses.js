/* The uses log: filter by user, group, experiment and dates; page through;
 * open a use; export what matches as CSV. Instructors see the uses of the
 * members of their groups only (the server enforces it). */
"use strict";
WebLabAdmin.start(false, function (me) {
    var W = WebLab, A = WebLabAdmin, t = W.t, $ = W.$;
    var PAGE = 50, offset = 0, total = 0;

    function filters() {
        var v = A.values($("filters")), e = A.splitExp(v.experiment), out = {};
        ["login", "group", "from", "to"].forEach(function (k) { if (v[k]) { out[k] = v[k]; } });
        if (e.exp_name) { out.exp_name = e.exp_name; }
        if (e.cat_name) { out.cat_name = e.cat_name; }
        return out;
    }

    function search() {
        var p = filters();
        p.limit = PAGE;
        p.offset = offset;
        return W.call("admin_list_uses", p).then(function (r) {
            total = r.total;
            $("count").textContent = r.total
                ? t("uses.count", {total: r.total, first: offset + 1, last: offset + r.uses.length})
                : t("uses.none");
            A.rows($("uses"), r.uses, function (u) {
                return [W.el("a", {href: "use.html#" + u.id}, "#" + u.id), u.login,
                        u.experiment + "@" + u.category, W.date(u.start_date),
                        u.end_date ? W.date(u.end_date) : t("uses.running"), u.origin,
                        {content: String(u.commands), num: true},
                        {content: String(u.files), num: true}, u.finish_reason || ""];
            });
            $("prev").disabled = offset === 0;
            $("next").disabled = offset + PAGE >= total;
        }, function (err) { A.say(t("admin.failed", {message: err.message}), true); });
    }

    function download(name, text) {
        var url = URL.createObjectURL(new Blob([text], {type: "text/csv;charset=utf-8"}));
        var a = W.el("a", {href: url, download: name});
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    }

    if (me.is_admin) {
        Promise.all([W.call("admin_list_groups"), W.call("admin_list_experiments")]).then(function (r) {
            A.options($("f-group"), r[0].map(function (g) { return g.name; }), t("uses.any"));
            A.datalist("exp-list", r[1].map(function (e) { return e.name + "@" + e.category; }));
        });
    } else {
        A.options($("f-group"), me.instructor_of, t("uses.any"));
    }
    $("filters").addEventListener("submit", function (ev) {
        ev.preventDefault();
        offset = 0;
        search().then(function () { W.focus($("count")); });
    });
    $("prev").addEventListener("click", function () { offset = Math.max(0, offset - PAGE); search(); });
    $("next").addEventListener("click", function () { offset += PAGE; search(); });
    $("export").addEventListener("click", function () {
        W.call("admin_export_uses", filters()).then(function (r) {
            download(r.filename, r.csv);
            A.say(t("uses.exported", {count: r.count}));
        }, function (err) { A.say(t("admin.failed", {message: err.message}), true); });
    });
    search();
});
