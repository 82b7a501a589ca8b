/* The lab page (lab.html#<category>/<experiment>): reserve, wait in the
 * queue, use the lab's own page (an iframe talking to WebLab through
 * weblabjs/weblab.v1.js) with the time left counting down, finish.
 *
 * Polling is paced like the original client's (weblab.v1.js): in the queue
 * every min(10, position + 1) s, waiting for instances every 5 s, while the
 * lab starts every 0.4 s; once confirmed get_reservation_status every 3 s
 * (the lab page's helper also polls every 4 s), and after finishing every
 * 0.4 s until the dispose is over (post_reservation with finished: true).
 * The reservation id is kept in sessionStorage so that reloading the page
 * picks the reservation up again. */
"use strict";
(function () {
    var W = WebLab, $ = W.$, t = W.t;
    var STORE = "weblab.reservation";
    var CONFIRMED_POLL = 3000, FINISH_POLL = 400, WARN_AT = [60, 10];

    var lab = null;             /* the list_experiments entry */
    var rid = null;             /* public reservation id */
    var phase = "idle";         /* idle reserving queue starting confirmed finishing ended */
    var pollTimer = null, ticker = null, deadline = 0, warned = {};
    var userFinished = false, wasConfirmed = false, netFailures = 0, ending = false;
    var wexp = null, frameLoaded = null;

    /* ---- the address ---- */

    function parseHash() {
        var h = location.hash.replace(/^#/, ""), slash = h.indexOf("/");
        if (slash <= 0 || slash === h.length - 1) { return null; }
        try {
            return {cat: decodeURIComponent(h.slice(0, slash)),
                    exp: decodeURIComponent(h.slice(slash + 1))};
        } catch (e) {
            return null;
        }
    }

    function config() {
        return (lab.experiment.client && lab.experiment.client.configuration) || {};
    }

    function clientId() {
        return lab.experiment.client ? lab.experiment.client.client_id : "";
    }

    /* Where the lab's page is: a full URL or an absolute path as is; a
     * built-in page beside this client (nativelabs/...); another one in the
     * deployment's public directory, as the original's pub/ (web/pub/). */
    function labPageUrl() {
        var file = config()["html.file"];
        if (!file) { return null; }
        if (/^(https?:)?\/\//.test(file) || file.charAt(0) === "/") { return file; }
        return config().builtin === true || config().builtin === "true"
            ? W.clientUrl + file : W.base + "web/pub/" + file;
    }

    function unmanaged() {
        return clientId() === "redirect" || !config()["html.file"];
    }

    /* ---- the page's state ---- */

    function status(text) {
        $("status").textContent = text;
        $("status-error").textContent = "";
    }

    function problem(text) {
        $("status").textContent = "";
        $("status-error").textContent = text;
    }

    function setPhase(p) {
        phase = p;
        var busy = p !== "idle" && p !== "ended";
        $("reserve").hidden = busy;
        $("reserve").disabled = false;
        $("finish").hidden = !(p === "queue" || p === "starting" || p === "confirmed");
        $("finish").textContent = t(p === "confirmed" ? "lab.finish" : "lab.leave_queue");
        $("countdown").hidden = p !== "confirmed";
        $("lab-area").hidden = p !== "confirmed";
        document.body.setAttribute("data-phase", p);
    }

    function remember() {
        try {
            if (rid) {
                sessionStorage.setItem(STORE, JSON.stringify({
                    exp: lab.experiment.name, cat: lab.experiment.category.name, id: rid}));
            } else {
                sessionStorage.removeItem(STORE);
            }
        } catch (e) { /* storage disabled: no resuming after a reload */ }
    }

    function schedule(ms) {
        clearTimeout(pollTimer);
        pollTimer = setTimeout(pollStatus, ms);
    }

    /* ---- the lab's page (iframe) ---- */

    function loadFrame() {
        var frame = $("exp-frame"), url = labPageUrl();
        wexp = null;
        frameLoaded = new Promise(function (resolve) {
            if (!url || unmanaged()) { resolve(); return; }
            frame.onload = function () {
                try {
                    var Wexp = frame.contentWindow.WeblabExp;
                    wexp = Wexp && Wexp.lastInstance ? Wexp.lastInstance : null;
                } catch (e) {
                    wexp = null;    /* another origin: no helper to talk to */
                }
                if (wexp) {
                    wexp._setTargetURL(W.jsonUrl);
                    wexp._setConfiguration(config());
                    wexp.locale = W.locale;
                }
                resolve();
            };
            frame.src = url;
        });
        frame.title = t("lab.frame_title", {name: lab.experiment.name});
    }

    function initialData() {
        var data = {};
        try {
            if (wexp) { data = wexp._getInitialData() || {}; }
            if (typeof data === "string") { data = JSON.parse(data); }
        } catch (e) {
            data = {};
        }
        if (typeof data === "object" && !data.back) {
            data.back = location.href.split("#")[0].split("?")[0] + "?finished=true"
                + location.hash;
        }
        return JSON.stringify(data);
    }

    /* ---- countdown ---- */

    function tick() {
        var left = (deadline - Date.now()) / 1000;
        $("countdown-value").textContent = W.clock(left);
        WARN_AT.forEach(function (s) {
            if (left <= s && left > 0 && !warned[s]) {
                warned[s] = true;
                status(t("lab.time_warning", {time: W.duration(s)}));
            }
        });
        if (left <= 0 && phase === "confirmed" && !warned.over) {
            warned.over = true;
            status(t("lab.time_over"));
            schedule(500);
        }
    }

    function setDeadline(seconds) {
        deadline = Date.now() + seconds * 1000;
        if (!ticker) { ticker = setInterval(tick, 1000); }
        tick();
    }

    /* ---- the reservation ---- */

    function reserve() {
        $("reserve").disabled = true;
        userFinished = false;
        wasConfirmed = false;
        ending = false;
        warned = {};
        status(t("lab.reserving"));
        frameLoaded.then(function () {
            return W.call("reserve_experiment", {
                experiment_id: {exp_name: lab.experiment.name,
                                cat_name: lab.experiment.category.name},
                client_initial_data: initialData(),
                consumer_data: "{}"});
        }).then(function (r) {
            rid = r.reservation_id.id;
            remember();
            handle(r);
        }).catch(function (err) {
            $("reserve").disabled = false;
            if (W.isSessionLost(err)) {
                sessionLost();
            } else {
                problem(t("lab.reserve_failed", {message: err.message}));
            }
        });
    }

    function pollStatus() {
        if (!rid) { return; }
        W.call("get_reservation_status", {reservation_id: {id: rid}}).then(function (r) {
            netFailures = 0;
            handle(r);
        }, pollFailed);
    }

    function handle(r) {
        var position = (r.position || 0) + 1;
        if (phase === "ended") { return; }
        switch (r.status) {
        case "Reservation::waiting":
            setPhase(userFinished ? "finishing" : "queue");
            status(r.position === 0 ? t("lab.queue_next") : t("lab.queue_n", {position: position}));
            if (wexp) { wexp._callOnQueue(); }
            schedule(Math.min(10, position) * 1000);
            break;
        case "Reservation::waiting_instances":
            setPhase(userFinished ? "finishing" : "queue");
            status(t("lab.waiting_instances", {position: position}));
            schedule(5000);
            break;
        case "Reservation::waiting_confirmation":
            setPhase(userFinished ? "finishing" : "starting");
            status(t("lab.starting"));
            schedule(400);
            break;
        case "Reservation::confirmed":
            if (userFinished) {
                schedule(FINISH_POLL);
                break;
            }
            confirmed(r);
            break;
        case "Reservation::post_reservation":
            if (!r.finished) {
                if (phase !== "finishing") { setPhase("finishing"); }
                status(t("lab.finishing"));
                schedule(FINISH_POLL);
            } else if (userFinished) {
                end("lab.finished");
            } else if (!ending) {
                ending = true;
                /* not the user's doing: time over, or the session ended
                 * elsewhere (logged out in another tab, timed out) */
                var why = wasConfirmed && deadline && Date.now() >= deadline - 1000
                    ? "lab.finished_time" : "lab.finished";
                W.call("check_user_session").then(function () { end(why); }, function (err) {
                    end(why);
                    if (W.isSessionLost(err)) { sessionLost(); }
                });
            }
            break;
        default:
            schedule(2000);
        }
    }

    function confirmed(r) {
        setDeadline(r.time);
        if (!wasConfirmed) {
            wasConfirmed = true;
            setPhase("confirmed");
            if (unmanaged()) {
                var conf = {};
                try { conf = JSON.parse(r.initial_configuration || "{}"); } catch (e) { conf = {}; }
                if (conf && typeof conf.url === "string") {
                    status(t("lab.redirecting"));
                    location.assign(conf.url.replace("TIME_REMAINING", String(Math.floor(r.time))));
                    return;
                }
                $("no-page").hidden = false;
            } else {
                $("exp-frame").hidden = false;
                if (wexp) {
                    wexp.onExperimentDeactive(labEnded);
                    try {
                        wexp._reservationReady(rid, r.time, r.initial_configuration);
                    } catch (e) {
                        /* already started (a page reload resumed it) */
                    }
                }
            }
            status(t("lab.confirmed", {time: W.duration(r.time)}));
            $("finish").focus();
        }
        schedule(CONFIRMED_POLL);
    }

    /* The lab's own page finished the experiment (or its polling saw the
     * reservation end): wait for the server's final word. */
    function labEnded() {
        if (phase === "confirmed") {
            setPhase("finishing");
            status(t("lab.finishing"));
            schedule(FINISH_POLL);
        }
    }

    function finish() {
        var wasUsing = phase === "confirmed";
        userFinished = true;
        setPhase("finishing");
        status(t("lab.finishing"));
        if (wasUsing && wexp && wexp.isActive && wexp.isActive()) {
            /* as the original: the lab's page says goodbye itself */
            wexp.cleanExperiment().always(function () { schedule(FINISH_POLL); });
            return;
        }
        W.call("finished_experiment", {reservation_id: {id: rid}}).then(function () {
            schedule(FINISH_POLL);
        }, pollFailed);
    }

    function pollFailed(err) {
        if (err.code === "JSON:Client.NoCurrentReservation") {
            end(userFinished ? (wasConfirmed ? "lab.finished" : "lab.cancelled") : "lab.expired");
        } else if (W.isSessionLost(err)) {
            /* the reservation or the whole session is gone: which one? */
            W.call("check_user_session").then(function () {
                end(userFinished ? (wasConfirmed ? "lab.finished" : "lab.cancelled")
                    : "lab.reservation_gone");
            }, function () {
                end(null);
                sessionLost();
            });
        } else if (err.code === "network" || /^HTTP\./.test(err.code)) {
            netFailures++;
            problem(t("lab.retrying"));
            schedule(Math.min(10000, 1000 * Math.pow(2, netFailures - 1)));
        } else {
            end(null);
            problem(t("error.unexpected", {message: err.message}));
        }
    }

    function end(messageKey) {
        clearTimeout(pollTimer);
        clearInterval(ticker);
        ticker = null;
        rid = null;
        remember();
        setPhase("ended");
        $("reserve").textContent = t("lab.again");
        $("exp-frame").hidden = true;
        $("no-page").hidden = true;
        if (messageKey) { status(t(messageKey)); }
        loadFrame();            /* a fresh page (and helper) for the next use */
        $("reserve").focus();
    }

    function sessionLost() {
        setPhase("ended");
        $("reserve").hidden = true;
        $("status").textContent = "";
        $("status-error").textContent = t("lab.session_lost");
        W.header(null);
        $("relogin").href = "./?reason=session&next=" + encodeURIComponent("lab.html" + location.hash);
        $("relogin").hidden = false;
        $("relogin").focus();
    }

    /* ---- start ---- */

    function render() {
        var name = lab.experiment.name, cat = lab.experiment.category.name;
        document.title = name + " – " + t("app.name");
        $("lab-title").textContent = name;
        $("lab-info").textContent = t("lab.category", {category: cat}) + " · "
            + t("lab.time_allowed", {time: W.duration(lab.time_allowed)});
        $("loading").hidden = true;
        $("lab-view").hidden = false;
        setPhase("idle");
        loadFrame();
        if (/[?&]finished=true/.test(location.search)) {
            status(t("lab.finished"));
        }
    }

    function resume() {
        var saved = null;
        try { saved = JSON.parse(sessionStorage.getItem(STORE) || "null"); } catch (e) { saved = null; }
        if (saved && saved.exp === lab.experiment.name && saved.cat === lab.experiment.category.name) {
            rid = saved.id;
            setPhase("starting");
            frameLoaded.then(pollStatus);
        }
    }

    function fatal(text) {
        $("loading").hidden = true;
        $("fatal").textContent = text;
        $("fatal").hidden = false;
    }

    W.applyStrings();
    var which = parseHash();
    if (!which) {
        fatal(t("lab.bad_address"));
        return;
    }
    $("reserve").addEventListener("click", reserve);
    $("finish").addEventListener("click", finish);
    W.call("get_user_information").then(function (user) {
        W.header(user, function () { location.assign("./?reason=logout"); }, {labsLink: true});
        return W.call("list_experiments", {exp_name: which.exp, cat_name: which.cat});
    }).then(function (list) {
        lab = list.filter(function (e) {
            return e.experiment.name === which.exp && e.experiment.category.name === which.cat;
        })[0];
        if (!lab) {
            fatal(t("lab.not_found"));
            return;
        }
        render();
        resume();
        W.focus($("lab-title"));
    }).catch(function (err) {
        if (W.isSessionLost(err)) {
            location.replace("./?reason=session&next="
                             + encodeURIComponent("lab.html" + location.hash));
        } else {
            fatal(t("error.unexpected", {message: err.message}));
        }
    });
    window.addEventListener("hashchange", function () { location.reload(); });
})();
