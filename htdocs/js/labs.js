/* The home page: the login form, or the list of the laboratories the user
 * may use (name, category, time allowed, last use), each a link to its lab
 * page (lab.html#<category>/<experiment>). */
"use strict";
(function () {
    var W = WebLab, $ = W.$, t = W.t;

    function show(view) {
        $("loading").hidden = true;
        $("login-view").hidden = view !== "login";
        $("labs-view").hidden = view !== "labs";
    }

    function labUrl(exp) {
        return "lab.html#" + encodeURIComponent(exp.category.name) + "/"
            + encodeURIComponent(exp.name);
    }

    function showLogin(notice) {
        W.header(null);
        $("login-notice").textContent = notice || "";
        $("login-error").textContent = "";
        show("login");
        W.focus($("login-title"));
    }

    function renderLabs(list) {
        var body = W.clear($("labs"));

        list.sort(function (a, b) {
            return a.experiment.category.name.localeCompare(b.experiment.category.name)
                || a.experiment.name.localeCompare(b.experiment.name);
        });
        list.forEach(function (e) {
            var last = typeof e.latest_use === "string" ? W.date(e.latest_use) : t("labs.never");

            body.appendChild(W.el("tr", {}, [
                W.el("th", {scope: "row", "data-label": t("labs.col.name")},
                     W.el("a", {href: labUrl(e.experiment)}, e.experiment.name)),
                W.el("td", {"data-label": t("labs.col.category")}, e.experiment.category.name),
                W.el("td", {"data-label": t("labs.col.time")}, W.duration(e.time_allowed)),
                W.el("td", {"data-label": t("labs.col.last_use")}, last)
            ]));
        });
        $("labs-caption").textContent = t("labs.caption", {count: list.length});
        $("labs-table").hidden = list.length === 0;
        $("labs-empty").hidden = list.length !== 0;
    }

    function showLabs(user) {
        W.header(user, function () { showLogin(t("login.logged_out")); });
        return W.call("list_experiments").then(function (list) {
            renderLabs(list);
            show("labs");
            W.focus($("labs-title"));
        });
    }

    function start() {
        W.call("get_user_information").then(showLabs).catch(function (err) {
            if (W.isSessionLost(err)) {
                showLogin(/[?&]reason=session/.test(location.search) ? t("login.session_lost")
                          : /[?&]reason=logout/.test(location.search) ? t("login.logged_out")
                          : "");
            } else {
                show("labs");
                $("labs-error").textContent = t("error.unexpected", {message: err.message});
            }
        });
    }

    $("login-form").addEventListener("submit", function (ev) {
        var form = ev.target, user = form.username.value.trim(), pass = form.password.value;
        var error = $("login-error"), button = $("login-submit");

        ev.preventDefault();
        error.textContent = "";
        form.username.removeAttribute("aria-invalid");
        form.password.removeAttribute("aria-invalid");
        if (!user || !pass) {
            error.textContent = t("login.missing");
            (user ? form.password : form.username).setAttribute("aria-invalid", "true");
            (user ? form.password : form.username).focus();
            return;
        }
        button.disabled = true;
        button.textContent = t("login.busy");
        W.call("login", {username: user, password: pass}, W.loginUrl).then(function () {
            form.password.value = "";
            var next = /[?&]next=([^&]+)/.exec(location.search);
            if (next && /^lab\.html#/.test(decodeURIComponent(next[1]))) {
                location.assign(decodeURIComponent(next[1]));
                return;
            }
            return W.call("get_user_information").then(showLabs);
        }).catch(function (err) {
            error.textContent = err.code === "JSON:Client.InvalidCredentials"
                ? t("login.invalid") : t("error.unexpected", {message: err.message});
            form.password.setAttribute("aria-invalid", "true");
            form.password.select();
            form.password.focus();
        }).then(function () {
            button.disabled = false;
            button.textContent = t("login.submit");
        });
    });

    W.applyStrings();
    start();
})();
