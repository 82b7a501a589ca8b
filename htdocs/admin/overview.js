/* The administration's home: one card per section the user may open. */
"use strict";
WebLabAdmin.start(false, function (me) {
    var W = WebLab, t = W.t, cards = W.$("cards");
    var sections = me.is_admin
        ? ["users", "groups", "permissions", "experiments", "uses", "live"] : ["uses"];
    var files = {users: "users.html", groups: "groups.html", permissions: "permissions.html",
                 experiments: "experiments.html", uses: "uses.html", live: "live.html"};

    if (!me.is_admin && me.instructor_of.length) {
        W.$("instructor-of").textContent = t("admin.instructor_of",
                                            {groups: me.instructor_of.join(", ")});
    }
    sections.forEach(function (key) {
        cards.appendChild(W.el("section", {"class": "card"}, [
            W.el("h2", {}, W.el("a", {href: files[key]}, t("admin." + key))),
            W.el("p", {}, t("admin.overview." + key))
        ]));
    });
});
