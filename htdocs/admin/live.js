/* The live view: every lab instance with its state and user, and who waits
 * in which queue; refreshes itself every few seconds (pausable). Only the
 * one-line summary is announced to screen readers. */
"use strict";
WebLabAdmin.start(true, function () {
    var W = WebLab, A = WebLabAdmin, t = W.t, $ = W.$;
    var EVERY = 3, timer = null, paused = false;

    function render(r) {
        var busy = r.instances.filter(function (i) { return i.holder; }).length;
        $("live-summary").textContent = t("live.summary",
            {busy: busy, total: r.instances.length, waiting: r.waiting.length});
        $("updated").textContent = t("live.updated", {time: new Date().toLocaleTimeString(W.locale)});
        A.rows($("live-instances"), r.instances, function (i) {
            var h = i.holder;
            return [i.instance + " (" + i.experiment + "@" + i.category + ")",
                    i.resource_instance + "@" + i.resource_type,
                    i.working ? A.badge(h ? t("exps.health.working") : t("live.free"), "ok")
                              : W.el("span", {}, [A.badge(t("exps.health.broken"), "bad"),
                                                  " " + (i.error || "")]),
                    h ? h.login + (h.full_name ? " (" + h.full_name + ")" : "") : "",
                    h ? h.state : "",
                    {content: h && h.time_left !== null ? W.clock(h.time_left) : "", num: true}];
        }, t("live.no_instances"), 6);
        A.rows($("live-queue"), r.waiting, function (w) {
            return [w.login + (w.full_name ? " (" + w.full_name + ")" : ""), w.resource_type,
                    {content: String(w.position + 1), num: true}, w.experiment + "@" + w.category,
                    {content: String(w.priority), num: true}, W.epochDate(w.waiting_since)];
        }, t("live.nobody"), 6);
    }

    function refresh() {
        clearTimeout(timer);
        W.call("admin_live_status").then(render, function (err) {
            A.say(t("admin.failed", {message: err.message}), true);
        }).then(function () {
            if (!paused) { timer = setTimeout(refresh, EVERY * 1000); }
        });
    }

    $("refresh-note").textContent = t("live.refresh", {s: EVERY});
    $("pause").addEventListener("click", function () {
        paused = !paused;
        this.setAttribute("aria-pressed", paused ? "true" : "false");
        this.textContent = t(paused ? "live.resume" : "live.pause");
        if (!paused) { refresh(); } else { clearTimeout(timer); }
    });
    refresh();
});
