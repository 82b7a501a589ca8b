/* A minimal student client over the JSON API (the full client comes with
 * its own issue): log in, list labs, reserve, wait, use the dummy lab,
 * finish. Polling paced like the original's weblab.v1.js. */
"use strict";
(function () {
    var base = location.pathname.replace(/client\/.*$/, "").replace(/\/[^/]*$/, "/");
    var api = base + "json/";
    var reservation = null, timer = null, lab = null;

    function $(id) { return document.getElementById(id); }
    function show(view) {
        ["login-view", "labs-view", "lab-view"].forEach(function (v) {
            $(v).hidden = v !== view;
        });
        $("logout").hidden = view === "login-view";
    }
    function call(method, params, url) {
        return fetch(url || api, {
            method: "POST", credentials: "same-origin",
            headers: {"Content-Type": "application/json"},
            body: JSON.stringify({method: method, params: params || {}})
        }).then(function (r) { return r.json(); }).then(function (d) {
            if (d.is_exception) { throw d; }
            return d.result;
        });
    }
    function status(text) { $("lab-status").textContent = text; }

    function listLabs() {
        call("list_experiments").then(function (list) {
            var ul = $("labs");
            ul.textContent = "";
            list.forEach(function (e) {
                var li = document.createElement("li"), b = document.createElement("button");
                b.textContent = e.experiment.name + " (" + e.experiment.category.name + ")";
                b.onclick = function () { openLab(e); };
                li.appendChild(b);
                li.appendChild(document.createTextNode(" " + e.time_allowed + " s"));
                ul.appendChild(li);
            });
            show("labs-view");
        }, function () { show("login-view"); });
    }
    function openLab(e) {
        lab = e.experiment;
        $("lab-title").textContent = lab.name + " (" + lab.category.name + ")";
        $("console").hidden = true; $("finish").hidden = true; $("reserve").hidden = false;
        status(""); show("lab-view");
    }
    function poll() {
        call("get_reservation_status", {reservation_id: {id: reservation}}).then(function (r) {
            var next = 1000;
            if (r.status === "Reservation::waiting") {
                status("In the queue: position " + (r.position + 1));
                next = Math.min(10, r.position + 1) * 1000;
            } else if (r.status === "Reservation::waiting_instances") {
                status("Waiting for the laboratory to be available");
                next = 5000;
            } else if (r.status === "Reservation::waiting_confirmation") {
                status("Starting the laboratory...");
                next = 400;
            } else if (r.status === "Reservation::confirmed") {
                status("Your time: " + Math.floor(r.time) + " s left");
                $("console").hidden = false; $("finish").hidden = false;
                next = 1000;
            } else if (r.status === "Reservation::post_reservation") {
                status("You have finished using this experiment.");
                $("console").hidden = true; $("finish").hidden = true; $("reserve").hidden = false;
                reservation = null;
                return;
            }
            timer = setTimeout(poll, next);
        }, function (err) {
            status(err.message || "The reservation has ended.");
            $("console").hidden = true; $("finish").hidden = true; $("reserve").hidden = false;
            reservation = null;
        });
    }
    function respond(text) {
        var li = document.createElement("li");
        li.textContent = text;
        $("responses").appendChild(li);
    }

    $("login-form").onsubmit = function (ev) {
        ev.preventDefault();
        var f = ev.target;
        call("login", {username: f.username.value, password: f.password.value}, base + "login/json/")
            .then(listLabs, function (err) { $("login-error").textContent = err.message; });
    };
    $("logout").onclick = function () { call("logout").then(function () { show("login-view"); }); };
    $("back").onclick = function () { clearTimeout(timer); listLabs(); };
    $("reserve").onclick = function () {
        call("reserve_experiment", {experiment_id: {exp_name: lab.name, cat_name: lab.category.name},
                                    client_initial_data: "{}", consumer_data: "{}"})
            .then(function (r) { reservation = r.reservation_id.id; $("reserve").hidden = true; poll(); },
                  function (err) { status(err.message); });
    };
    $("finish").onclick = function () {
        call("finished_experiment", {reservation_id: {id: reservation}});
    };
    $("command-form").onsubmit = function (ev) {
        ev.preventDefault();
        call("send_command", {reservation_id: {id: reservation},
                              command: {commandstring: ev.target.command.value}})
            .then(function (r) { respond(r.commandstring); }, function (e) { respond(e.message); });
    };
    $("file-form").onsubmit = function (ev) {
        ev.preventDefault();
        var file = ev.target.file.files[0];
        if (!file) { return; }
        var reader = new FileReader();
        reader.onload = function () {
            call("send_file", {reservation_id: {id: reservation},
                               file_content: reader.result.split(",")[1], file_info: file.name})
                .then(function (r) { respond(r.commandstring); }, function (e) { respond(e.message); });
        };
        reader.readAsDataURL(file);
    };
    listLabs();
})();
