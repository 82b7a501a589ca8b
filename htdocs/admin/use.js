/* One use (use.html#<id>): who, what, when, and every command and file
 * with the lab's response. */
"use strict";
WebLabAdmin.start(false, function () {
    var W = WebLab, A = WebLabAdmin, t = W.t, $ = W.$;
    var id = parseInt(location.hash.replace(/^#/, ""), 10);

    function item(dl, key, value) {
        dl.appendChild(W.el("dt", {}, t(key)));
        dl.appendChild(W.el("dd", {}, value === null || value === undefined ? "" : value));
    }

    if (!id) {
        A.say(t("use.missing"), true);
        return;
    }
    $("page-title").textContent = t("use.title", {id: id});
    document.title = t("use.title", {id: id}) + " – " + t("app.name");
    W.call("admin_get_use", {id: id}).then(function (u) {
        var dl = W.clear($("summary"));
        item(dl, "use.user", u.login + (u.full_name ? " (" + u.full_name + ")" : ""));
        item(dl, "use.experiment", u.experiment + "@" + u.category);
        item(dl, "use.start", W.date(u.start_date));
        item(dl, "use.end", u.end_date ? W.date(u.end_date) : t("uses.running"));
        item(dl, "use.duration", u.session_seconds !== null ? W.duration(u.session_seconds) : "");
        item(dl, "use.origin", u.origin);
        item(dl, "use.lab", u.lab);
        item(dl, "use.permission", u.permission);
        item(dl, "use.reason", u.finish_reason || "");
        try {
            $("request").textContent = JSON.stringify(JSON.parse(u.request_info || "{}"), null, 2);
        } catch (e) {
            $("request").textContent = u.request_info || "";
        }
        A.rows($("interactions"), u.interactions, function (it) {
            var sent = it.kind === "file"
                ? (it.file_info || "") + (it.file_hash ? " " + it.file_hash : "") : it.command;
            return [W.epochDate(it.timestamp_before), t("use.kind." + it.kind), sent,
                    it.response === null ? t("use.no_response") : it.response];
        }, t("use.none"), 4);
    }, function (err) { A.say(t("admin.failed", {message: err.message}), true); });
});
