/* weblab.v1.js for mod_weblab: how a lab's web page talks to WebLab.
 *
 * A lab page includes this file and uses the global `weblab` object; the
 * calls are those of the original WebLab-Deusto's weblab.v1.js, so lab pages
 * written for it work unchanged (jQuery is no longer needed, but pages that
 * use it keep working: the promises below have jQuery's done/fail/always/
 * progress/then). See docs/lab-pages.md for the whole story.
 *
 *   weblab.onStart(function (timeLeft, initialConfig) { ... });
 *   weblab.onSetTime(function (timeLeft) { ... });
 *   weblab.onFinish(function () { ... });
 *   weblab.sendCommand("ChangeSwitch on 0")
 *       .done(function (response) { ... })
 *       .fail(function (error) { ... });
 *   weblab.sendFile(inputElementOrFileOrString, "file info").done(...);
 *   weblab.finishExperiment();
 *   weblab.setOnGetInitialDataCallback(function () { return {...}; });
 *   weblab.getConfiguration();   // the experiment's client parameters
 *
 * FRAME mode (the default): the page runs in the lab page's iframe
 * (/weblab/client/lab.html); the WebLab page reserves and, once the
 * reservation is confirmed, calls weblab._reservationReady(id, time,
 * initialConfig), which fires onStart. FREE mode (?free in the address): the
 * page runs alone and takes r (reservation id), t (time left), c (initial
 * configuration) and u (the JSON API URL) from its query string.
 *
 * While a reservation is active the helper sends "poll" every 4 seconds, as
 * the original does, and ends the experiment (onFinish) when the server says
 * the reservation is over. Closing the page finishes the reservation unless
 * disableFinishOnClose() was called. */
(function () {
    "use strict";
    if (window.weblab !== undefined && window.WeblabExp !== undefined) {
        return;                 /* included twice */
    }

    /* ---- a small Deferred with jQuery's interface ---- */

    function Deferred() {
        var state = "pending", args = [], lists = {done: [], fail: [], progress: []};
        var self = this, promise;

        function add(kind, fns) {
            fns.forEach(function (fn) {
                if (typeof fn !== "function") { return; }
                if (kind === "progress") { lists.progress.push(fn); return; }
                if ((kind === "done" && state === "resolved")
                    || (kind === "fail" && state === "rejected")) {
                    fn.apply(null, args);
                } else if (state === "pending") {
                    lists[kind].push(fn);
                }
            });
        }
        function settle(newState, kind, values) {
            if (state !== "pending") { return self; }
            state = newState;
            args = values;
            lists[kind].forEach(function (fn) {
                try { fn.apply(null, values); } catch (e) { setTimeout(function () { throw e; }); }
            });
            lists = {done: [], fail: [], progress: []};
            return self;
        }
        promise = {
            state: function () { return state; },
            done: function () { add("done", [].slice.call(arguments)); return promise; },
            fail: function () { add("fail", [].slice.call(arguments)); return promise; },
            progress: function () { add("progress", [].slice.call(arguments)); return promise; },
            always: function () {
                var fns = [].slice.call(arguments);
                add("done", fns); add("fail", fns); return promise;
            },
            then: function (onDone, onFail, onProgress) {
                var next = new Deferred();
                function chain(fn, settleNext) {
                    return function () {
                        var r;
                        if (typeof fn !== "function") {
                            settleNext.apply(next, arguments);
                            return;
                        }
                        try { r = fn.apply(null, arguments); } catch (e) { next.reject(e); return; }
                        if (r && typeof r.then === "function") {
                            r.then(function () { next.resolve.apply(next, arguments); },
                                   function () { next.reject.apply(next, arguments); });
                        } else {
                            next.resolve(r);
                        }
                    };
                }
                add("done", [chain(onDone, next.resolve)]);
                add("fail", [chain(onFail, next.reject)]);
                if (onProgress) { add("progress", [onProgress]); }
                return next.promise();
            },
            promise: function () { return promise; }
        };
        this.resolve = function () { return settle("resolved", "done", [].slice.call(arguments)); };
        this.reject = function () { return settle("rejected", "fail", [].slice.call(arguments)); };
        this.notify = function () {
            var values = [].slice.call(arguments);
            if (state === "pending") {
                lists.progress.forEach(function (fn) { fn.apply(null, values); });
            }
            return self;
        };
        Object.keys(promise).forEach(function (k) {
            if (k !== "promise") { self[k] = promise[k]; }
        });
        this.promise = function () { return promise; };
    }

    function query() {
        var out = {};
        location.search.replace(/^\?/, "").split("&").forEach(function (kv) {
            var p = kv.split("=");
            if (p[0]) { out[decodeURIComponent(p[0])] = p.length > 1 ? decodeURIComponent(p[1].replace(/\+/g, " ")) : ""; }
        });
        return out;
    }

    function defaultTargetURL() {
        var path = location.pathname, at = path.indexOf("/weblab/");
        return (at >= 0 ? path.slice(0, at + 8) : "/weblab/") + "json/";
    }

    function frameOf(win) {
        try {
            return win.parent && win.parent !== win
                ? win.parent.document.getElementById("exp-frame") : null;
        } catch (e) {
            return null;        /* another origin */
        }
    }

    var WeblabExp = function () {
        var self = this, qs = query();
        var frameMode = qs.free === undefined;
        var reservation, pollTimer, polling = false, closing = false;
        var startCalled = false, endCalled = false, active = false, expectsPostEnd = false;
        var finishOnClose = true, debugging = false, dbgResponse, dbgOk = true, fakeServer = null;
        var onConfigLoad = new Deferred(), onStart = new Deferred(), onSetTime = new Deferred();
        var onQueue = new Deferred(), onFinish = new Deferred(), onProcessResults = new Deferred();
        var onActive = new Deferred(), onDeactive = new Deferred();
        var initialDataCallback, loadedPromise = null, fileUploadURL = "";

        this.POLL_FREQUENCY = 4000;
        this.CORE_URL = defaultTargetURL();
        this.currentURL = "";
        this.config = {};
        this.locale = qs.locale || "en";
        this.debug = false;
        this.debug_poll = false;

        /* ---- internal interface (used by the WebLab page) ---- */

        this._guessFrameMode = function () { return frameMode; };
        this._setTargetURL = function (url) { if (url) { self.CORE_URL = url; } };
        this._setCurrentURL = function (url) { self.currentURL = url; };
        this._setConfiguration = function (config) { self.config = config || {}; };
        this._setReservation = function (id) { reservation = id; };
        this._getReservation = function () { return reservation; };
        this._callOnQueue = function () { onQueue.resolve(); };
        this._getInitialData = function () {
            return initialDataCallback ? initialDataCallback() : {};
        };

        /* The reservation is confirmed: start polling and fire onStart. */
        this._reservationReady = function (reservationID, time, initialConfig) {
            self.show();
            if (startCalled) {
                throw new Error("_reservationReady should only be called once");
            }
            startCalled = true;
            active = true;
            reservation = reservationID;
            onActive.resolve(reservationID, time, initialConfig);
            self._startPolling();
            onStart.resolve(Math.round(time), initialConfig);
            onSetTime.resolve(Math.round(time));
        };

        /* One JSON-RPC request; resolves with "result", rejects with the
         * error envelope ({code, message}) or the transport failure. */
        this._send = function (request) {
            var d = new Deferred();
            if (self.debug && (request.method !== "poll" || self.debug_poll)) {
                console.log("Requesting: ", request);
            }
            fetch(self.CORE_URL, {
                method: "POST", credentials: "same-origin",
                headers: {"Content-Type": "application/json"},
                body: JSON.stringify(request),
                keepalive: request.method === "finished_experiment"
            }).then(function (r) { return r.json(); }).then(function (doc) {
                if (doc.is_exception === true || doc.result === undefined || doc.result === null) {
                    d.reject(doc);
                } else {
                    d.resolve(doc.result);
                }
            }, function (err) {
                d.reject({is_exception: true, code: "network", message: String(err)});
            });
            return d.promise();
        };

        this._poll = function () {
            return self._send({method: "poll", params: {reservation_id: {id: reservation}}});
        };

        this._startPolling = function () {
            polling = true;
            self._poll().done(function () {
                if (polling) {
                    pollTimer = setTimeout(self._startPolling, self.POLL_FREQUENCY);
                }
            }).fail(function () {
                polling = false;
                if (!closing) { self.finishExperiment(); }
            });
        };

        this._sendCommand = function (command) {
            return self._send({method: "send_command",
                               params: {command: {commandstring: command},
                                        reservation_id: {id: reservation}}});
        };

        this._getReservationStatus = function (id) {
            return self._send({method: "get_reservation_status",
                               params: {reservation_id: {id: id}}});
        };

        this._pollForPostReservation = function () {
            var d = new Deferred();
            (function wait() {
                self._getReservationStatus(reservation).done(function (r) {
                    if (r.status === "Reservation::post_reservation" && r.finished) {
                        onProcessResults.resolve(r.initial_data, r.end_data);
                        d.resolve(r.initial_data, r.end_data);
                    } else if (r.status === "Reservation::post_reservation"
                               || r.status === "Reservation::confirmed") {
                        setTimeout(wait, r.status === "Reservation::confirmed" ? 500 : 400);
                    } else {
                        d.reject({msg: "Unexpected post reservation message"});
                    }
                }).fail(function (e) { d.reject(e); });
            })();
            return d.promise();
        };

        /* End the experiment: fire onFinish once, tell the server (always
         * when forced, else only the first time), then onExperimentDeactive. */
        this._finishedExperiment = function (forceCallServer) {
            var d = new Deferred(), first = !endCalled;
            clearTimeout(pollTimer);
            polling = false;
            active = false;
            if (first) {
                endCalled = true;
                onFinish.resolve();
            }
            if (!(forceCallServer || first) || !reservation) {
                onDeactive.resolve();
                return d.resolve().promise();
            }
            self._send({method: "finished_experiment",
                        params: {reservation_id: {id: reservation}}}).done(function () {
                if (expectsPostEnd) {
                    self._pollForPostReservation().done(function () { d.resolve(); })
                        .fail(function (e) { d.reject(e); });
                } else {
                    onDeactive.resolve();
                    d.resolve();
                }
            }).fail(function (e) {
                onDeactive.resolve();
                d.reject(e);
            });
            return d.promise();
        };

        /* Load ?c=<config url> as the original does: {targetURL, locale,
         * fileUploadURL, currentURL, config, scripts, debug}. */
        this._loadConfig = function () {
            if (qs.c === undefined || !frameMode) {
                onConfigLoad.resolve();
                return;
            }
            fetch(qs.c, {credentials: "same-origin"}).then(function (r) { return r.json(); })
                .then(function (c) {
                    self._setTargetURL(c.targetURL);
                    self.locale = c.locale || self.locale;
                    self.debug = !!c.debug;
                    fileUploadURL = c.fileUploadURL || "";
                    self._setCurrentURL(c.currentURL);
                    self._setConfiguration(c.config);
                    (c.scripts || []).forEach(function (src) {
                        document.head.appendChild(Object.assign(document.createElement("script"), {src: src}));
                    });
                }).catch(function () {
                    console.error("Error loading configuration file from " + qs.c);
                }).then(function () { onConfigLoad.resolve(); });
        };

        /* ---- public interface ---- */

        this.sendCommand = function (command) {
            var d = new Deferred();
            if (self.isDebuggingMode()) {
                setTimeout(function () {
                    if (fakeServer) {
                        try { d.resolve(fakeServer.sendCommand(command)); } catch (e) { d.reject(e); }
                    } else if (dbgOk) {
                        d.resolve(dbgResponse);
                    } else {
                        d.reject(dbgResponse);
                    }
                }, 500);
                return d.promise();
            }
            self._sendCommand(command).done(function (r) { d.resolve(r.commandstring); })
                .fail(function (e) { d.reject(e); });
            return d.promise();
        };

        this.testCommand = function (command) {
            return self.sendCommand(command)
                .done(function (r) { console.debug("SUCCESS: " + r); })
                .fail(function (e) { console.error("ERROR: ", e); });
        };

        /* Send a file: an <input type=file> (or a jQuery object holding
         * one), a File or Blob, or a string. It travels base64-encoded in
         * the JSON send_file call. Resolves with the lab's response. */
        this.sendFile = function (input, fileInfo) {
            var d = new Deferred(), blob;
            if (typeof input === "string") {
                blob = new Blob([input]);
            } else if (input instanceof Blob) {
                blob = input;
            } else {
                var el = input && input.jquery ? input[0] : input;
                blob = el && el.files ? el.files[0] : null;
            }
            if (!blob) {
                return d.reject("No file to send").promise();
            }
            var reader = new FileReader();
            reader.onload = function () {
                var b64 = String(reader.result).replace(/^data:[^,]*,/, "");
                self._send({method: "send_file",
                            params: {reservation_id: {id: reservation},
                                     file_content: b64, file_info: fileInfo || ""}})
                    .done(function (r) { d.resolve(r.commandstring); })
                    .fail(function (e) { d.reject(e && e.message ? e.message : e); });
            };
            reader.onerror = function () { d.reject("Could not read the file"); };
            reader.readAsDataURL(blob);
            return d.promise();
        };

        this.finishExperiment = function () { return self._finishedExperiment(true); };
        this.cleanExperiment = function () { return self._finishedExperiment(false); };
        this.setOnGetInitialDataCallback = function (fn) { initialDataCallback = fn; };

        function register(deferred) {
            return function (fn) {
                if (fn !== undefined) { deferred.done(fn); }
                return deferred.promise();
            };
        }
        this.onStart = register(onStart);
        this.onSetTime = register(onSetTime);
        this.onQueue = register(onQueue);
        this.onFinish = register(onFinish);
        this.onConfigLoad = register(onConfigLoad);
        this.onExperimentActive = register(onActive);
        this.onExperimentDeactive = register(onDeactive);
        this.onProcessResults = function (fn) {
            expectsPostEnd = true;
            return register(onProcessResults)(fn);
        };

        this.getConfiguration = function () { return self.config; };
        this.getReservationId = function () { return reservation; };
        this.getFileUploadUrl = function () { return fileUploadURL; };
        this.isFrameMode = function () { return frameMode; };
        this.isActive = function () { return active; };
        this.isLocalTest = function () {
            return window.parent === window && frameMode;
        };
        this.isDebuggingMode = function () { return debugging || self.isLocalTest(); };
        this.enableDebuggingMode = function () { debugging = true; };
        this.dbgSetSendCommandResponse = function (response, ok) {
            dbgResponse = response;
            dbgOk = ok === undefined ? true : ok;
        };
        this.dbgSetFakeServer = function (server) {
            fakeServer = server;
            if (fakeServer && fakeServer.start) { fakeServer.start(); }
        };
        this.stopPolling = function () { clearTimeout(pollTimer); polling = false; };
        this.disableFinishOnClose = function () { finishOnClose = false; };
        this.show = function () { if (document.body) { document.body.style.display = ""; } };
        this.hideFrame = function () { var f = frameOf(window); if (f) { f.hidden = true; } };
        this.showFrame = function () { var f = frameOf(window); if (f) { f.hidden = false; } };
        this.setWidth = function (width) {
            var f = frameOf(window);
            if (f) { f.style.width = typeof width === "number" ? width + "px" : width; }
        };
        this.reset = function () { window.weblab = new WeblabExp(); };
        this.setExperimentLoadedPromise = function (promise, seconds) {
            loadedPromise = promise;
            if (seconds !== undefined && window.parent !== window) {
                window.parent.postMessage("weblabdeusto::experimentLoading::" + (seconds * 1000), "*");
            }
        };

        /* Reserve from the lab page itself (the original's lab.controller
         * does this through the iframe's object). .progress(status,
         * position, result, broken), .done(id, time, initialConfig, result). */
        this.reserveExperiment = function (sessionID, experimentName, experimentCategory) {
            var d = new Deferred(), data = self._getInitialData();
            var params = {experiment_id: {exp_name: experimentName, cat_name: experimentCategory},
                          client_initial_data: typeof data === "string" ? data : JSON.stringify(data || {}),
                          consumer_data: "{}"};
            if (sessionID) { params.session_id = {id: sessionID}; }
            self._send({method: "reserve_experiment", params: params}).done(function (r) {
                checkStatus(r.reservation_id.id, d);
            }).fail(function (e) { d.reject(e); });
            return d.promise();
        };

        this.getReservationStatus = function (id) {
            var d = new Deferred();
            checkStatus(id, d);
            return d.promise();
        };

        function checkStatus(id, d) {
            self._getReservationStatus(id).done(function (r) {
                var next = 2000;
                if (r.status === "Reservation::confirmed") {
                    d.resolve(id, r.time, r.initial_configuration, r);
                    return;
                }
                if (r.status === "Reservation::post_reservation") {
                    if (r.finished) {
                        onProcessResults.resolve(r.initial_data, r.end_data);
                    }
                    return;
                }
                if (r.status === "Reservation::waiting") {
                    d.notify(r.status, r.position, r, false);
                    next = Math.min(10000, 1000 * (r.position + 1));
                } else if (r.status === "Reservation::waiting_instances") {
                    d.notify(r.status, r.position, r, true);
                    next = 5000;
                } else if (r.status === "Reservation::waiting_confirmation") {
                    d.notify(r.status, undefined, r, false);
                    next = 400;
                } else {
                    d.notify(r.status, undefined, r);
                }
                setTimeout(function () { checkStatus(id, d); }, next);
            }).fail(function (e) { d.reject(e); });
        }

        /* ---- construction ---- */

        if (!frameMode) {
            self._setTargetURL(qs.u);
            self._reservationReady(qs.r, parseInt(qs.t, 10) || 0, qs.c);
        }
        self._loadConfig();
        window.addEventListener("beforeunload", function () {
            if (finishOnClose && active) {
                closing = true;
                self.finishExperiment();
            }
        });
        self.onConfigLoad(function () {
            if (window.parent === window) { return; }
            var tell = function () { window.parent.postMessage("weblabdeusto::experimentLoaded", "*"); };
            if (loadedPromise && loadedPromise.always) { loadedPromise.always(tell); } else { tell(); }
        });
        WeblabExp.lastInstance = this;
    };

    WeblabExp.VERSION = "1";
    WeblabExp.lastInstance = undefined;
    WeblabExp.Deferred = Deferred;
    window.WeblabExp = WeblabExp;
    window.weblab = new WeblabExp();
})();
