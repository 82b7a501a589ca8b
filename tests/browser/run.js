/* Browser tests of the student client and the administration pages,
 * against a running deployment, in Debian's chromium (headless) driven by
 * playwright-core. Run by tests/integration/test_browser.py, which makes
 * the deployment (weblab-admin create --add-test-data) and passes:
 *
 *   WEBLAB_URL          http://127.0.0.1:<front port>
 *   WEBLAB_SCREENSHOTS  where to save one PNG per page (gitignored)
 *   CHROMIUM            the browser (default /usr/bin/chromium)
 *
 * Other students are driven through the JSON API from here (node's fetch).
 * Prints "ok"/"not ok" per check and ends with "N passed, M failed"; the
 * exit status is non-zero when a check failed. */
"use strict";
const fs = require("fs");
const os = require("os");
const path = require("path");
const { chromium } = require("playwright-core");

const BASE = (process.env.WEBLAB_URL || "").replace(/\/$/, "");
const SHOTS = process.env.WEBLAB_SCREENSHOTS || path.join(__dirname, "screenshots");
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"];
const CLIENT = BASE + "/weblab/client/";

let passed = 0, failed = 0;
const problems = [];

function check(name, cond, detail) {
    if (cond) {
        passed++;
        console.log("ok - " + name);
    } else {
        failed++;
        problems.push(name);
        console.log("not ok - " + name + (detail !== undefined ? " (" + detail + ")" : ""));
    }
}

/* ---- a student through the JSON API ---- */

class ApiStudent {
    constructor(login) { this.login = login; }
    async call(method, params, url) {
        const r = await fetch(url || BASE + "/weblab/json/", {
            method: "POST", headers: {"Content-Type": "application/json"},
            body: JSON.stringify({method, params: params || {}})
        });
        const doc = await r.json();
        if (doc.is_exception) {
            const e = new Error(doc.code + ": " + doc.message);
            e.code = doc.code;
            throw e;
        }
        return doc.result;
    }
    async start() {
        const r = await this.call("login", {username: this.login, password: "password"},
                                  BASE + "/weblab/login/json/");
        this.session = r.id;
        return this;
    }
    async reserve() {
        const r = await this.call("reserve_experiment", {
            session_id: {id: this.session},
            experiment_id: {exp_name: "dummy", cat_name: "Dummy experiments"},
            client_initial_data: "{}", consumer_data: "{}"});
        this.rid = r.reservation_id.id;
        return r;
    }
    status() {
        return this.call("get_reservation_status", {reservation_id: {id: this.rid}});
    }
    async waitFor(wanted, seconds) {
        const end = Date.now() + (seconds || 20) * 1000;
        let st;
        while (Date.now() < end) {
            st = await this.status();
            if (st.status === wanted) { return st; }
            await sleep(200);
        }
        throw new Error(this.login + " never reached " + wanted + " (last " + (st && st.status) + ")");
    }
    finish() {
        return this.call("finished_experiment", {reservation_id: {id: this.rid}});
    }
    logout() {
        return this.call("logout", {session_id: {id: this.session}});
    }
}

function sleep(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

async function shot(page, name) {
    await page.screenshot({path: path.join(SHOTS, name + ".png"), fullPage: true});
}

async function login(page, user, pass) {
    await page.goto(CLIENT);
    await page.waitForSelector("#login-view:not([hidden])");
    await page.fill("#username", user);
    await page.fill("#password", pass);
    await page.press("#password", "Enter");           /* the keyboard way */
    await page.waitForSelector("#labs-view:not([hidden])", {timeout: 15000});
}

async function logout(page) {
    await page.click("#logout");
    await page.waitForSelector("#login-view:not([hidden])", {timeout: 10000});
}

/* ---- the student's whole cycle, queued behind another student ---- */

async function studentCycle(page) {
    const other = await new ApiStudent("student2").start();
    await other.reserve();
    await other.waitFor("Reservation::confirmed");

    const resp = await page.goto(BASE + "/weblab/");
    check("/weblab/ leads to the client", resp.ok() && page.url().endsWith("/weblab/client/"),
          page.url());
    await page.waitForSelector("#login-view:not([hidden])");
    check("login page shown to a visitor", await page.isVisible("#login-form"));
    await shot(page, "01-login");

    await page.fill("#username", "student1");
    await page.fill("#password", "not-the-password");
    await page.click("#login-submit");
    await page.waitForSelector("#login-error:not(:empty)", {timeout: 15000});
    check("a wrong password is explained in place",
          /Wrong username or password/.test(await page.textContent("#login-error")));
    check("the password field is marked invalid and focused",
          await page.evaluate(() => document.activeElement.id === "password"
                              && document.activeElement.getAttribute("aria-invalid") === "true"));
    await shot(page, "02-login-error");

    await page.fill("#password", "password");
    await page.press("#password", "Enter");
    await page.waitForSelector("#labs-view:not([hidden])", {timeout: 15000});
    const row = await page.textContent("#labs tr");
    check("the lab list shows the dummy lab with its time and last use",
          /dummy/.test(row) && /Dummy experiments/.test(row) && /3 min 20 s/.test(row)
          && /Never/.test(row), row);
    await shot(page, "03-labs");

    await page.click("#labs a");
    await page.waitForSelector("#lab-view:not([hidden])");
    check("the lab page has its own address",
          page.url().endsWith("/lab.html#Dummy%20experiments/dummy"), page.url());
    await page.evaluate(() => {
        window.__phases = [];
        new MutationObserver(() => {
            const p = document.body.getAttribute("data-phase");
            if (window.__phases[window.__phases.length - 1] !== p) { window.__phases.push(p); }
        }).observe(document.body, {attributes: true, attributeFilter: ["data-phase"]});
    });
    await shot(page, "04-lab");

    await page.click("#reserve");
    await page.waitForFunction(() => /next in the queue/.test(document.getElementById("status").textContent),
                               null, {timeout: 15000});
    check("queued behind the other student, the position is shown", true);
    await shot(page, "05-queue");

    await other.finish();
    await page.waitForSelector("body[data-phase=confirmed]", {timeout: 30000});
    check("the reservation is confirmed once the other student finishes", true);
    const frame = page.frameLocator("#exp-frame");
    await frame.locator("#send-command:not([disabled])").waitFor({timeout: 10000});
    const t0 = await page.textContent("#countdown-value");
    await sleep(2300);
    const t1 = await page.textContent("#countdown-value");
    const secs = (s) => { const [m, x] = s.split(":").map(Number); return m * 60 + x; };
    check("the time left counts down", secs(t1) < secs(t0) && secs(t0) <= 200 && secs(t1) > 150,
          t0 + " then " + t1);
    await shot(page, "06-confirmed");

    await frame.locator("#command").fill("ChangeSwitch on 0");
    await frame.locator("#send-command").click();
    await frame.locator("#responses li").first().waitFor({timeout: 10000});
    const answer = await frame.locator("#responses li").first().textContent();
    check("a command reaches the dummy lab and its response is shown",
          /Received command: ChangeSwitch on 0/.test(answer), answer);
    await frame.locator("#file").setInputFiles({name: "program.txt", mimeType: "text/plain",
                                                buffer: Buffer.from("hello lab")});
    await frame.locator("#send-file").click();
    await frame.locator("#responses li").nth(1).waitFor({timeout: 10000});
    const fileAnswer = await frame.locator("#responses li").nth(1).textContent();
    check("a file reaches the dummy lab and its response is shown",
          /Received file/.test(fileAnswer), fileAnswer);
    await shot(page, "07-lab-in-use");

    await page.click("#finish");
    await page.waitForSelector("body[data-phase=ended]", {timeout: 20000});
    const end = await page.textContent("#status");
    check("the end state says so", /You have finished using this experiment/.test(end), end);
    const phases = await page.evaluate(() => window.__phases);
    check("the page went through queue, confirmed, finishing, ended",
          ["queue", "confirmed", "finishing", "ended"].every((p) => phases.includes(p)),
          phases.join(" "));
    await shot(page, "08-finished");

    await page.setViewportSize({width: 390, height: 844});
    await page.goto(CLIENT);
    await page.waitForSelector("#labs-view:not([hidden])");
    const fits = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
    check("the lab list fits a phone's width", fits);
    await shot(page, "09-phone-labs");
    await page.goto(CLIENT + "lab.html#Dummy%20experiments/dummy");
    await page.waitForSelector("#lab-view:not([hidden])");
    await shot(page, "10-phone-lab");
    await page.setViewportSize({width: 1200, height: 900});

    await page.goto(CLIENT);
    await page.waitForSelector("#labs-view:not([hidden])");
    await logout(page);
    check("log out leads back to the login page",
          /logged out/.test(await page.textContent("#login-notice")));
    await shot(page, "11-logged-out");
    await other.logout();
}

/* ---- a lost session is explained ---- */

async function lostSession(page, context) {
    await login(page, "student1", "password");
    await page.goto(CLIENT + "lab.html#Dummy%20experiments/dummy");
    await page.waitForSelector("#lab-view:not([hidden])");
    await page.click("#reserve");
    await page.waitForSelector("body[data-phase=confirmed]", {timeout: 30000});
    const cookie = (await context.cookies()).find((c) => c.name === "weblabsessionid");
    /* the session ends elsewhere (another tab logs out, or it times out) */
    await new ApiStudent("student1").call("logout",
                                          {session_id: {id: cookie.value.split(".")[0]}});
    await page.waitForSelector("#relogin:not([hidden])", {timeout: 20000});
    const text = await page.textContent("#status-error");
    check("a lost session is explained, with a way to log in again",
          /session has ended/.test(text), text);
    await shot(page, "12-session-lost");
}

/* ---- the administrator adds a user and a permission ---- */

async function administration(page) {
    await login(page, "admin", "password");
    check("an administrator sees the administration link",
          await page.isVisible("#user-box a[href$='/admin/']"));
    await page.click("#user-box a[href$='/admin/']");
    await page.waitForSelector("#page:not([hidden])");
    await shot(page, "20-admin-overview");
    /* the original's admin_url (get_user_information) leads here too */
    await page.goto(BASE + "/weblab/admin/");
    await page.waitForSelector("#page:not([hidden])");
    check("/weblab/admin/ leads to the administration pages",
          page.url().endsWith("/weblab/client/admin/"), page.url());

    await page.goto(CLIENT + "admin/users.html");
    await page.waitForSelector("#users tr");
    await page.fill("#u-login", "newstudent");
    await page.fill("#u-name", "New Student");
    await page.fill("#u-email", "new@example.org");
    await page.fill("#u-password", "newpass1");
    await page.click("#add-user button[type=submit]");
    await page.waitForFunction(() => /newstudent/.test(document.getElementById("users").textContent),
                               null, {timeout: 10000});
    check("the administrator adds a user", true);
    await shot(page, "21-admin-users");

    await page.goto(CLIENT + "admin/permissions.html");
    await page.waitForSelector("#perms tr");
    await page.selectOption("#p-scope", "user");
    await page.fill("#p-who", "newstudent");
    await page.selectOption("#p-exp", "dummy@Dummy experiments");
    await page.fill("#p-time", "150");
    await page.fill("#p-priority", "2");
    await page.click("#grant button[type=submit]");
    await page.waitForFunction(() => /newstudent/.test(document.getElementById("perms").textContent),
                               null, {timeout: 10000});
    check("the administrator gives the user the dummy lab",
          /Permission given/.test(await page.textContent("#admin-message")));
    await shot(page, "22-admin-permissions");

    await page.goto(CLIENT + "admin/groups.html");
    await page.waitForSelector("#groups tr");
    await shot(page, "23-admin-groups");

    await page.goto(CLIENT + "admin/experiments.html");
    await page.waitForSelector("#instances tr");
    check("the experiments page shows the instance's health",
          /working|not scheduled yet/.test(await page.textContent("#instances")));
    await shot(page, "24-admin-experiments");

    await page.goto(CLIENT + "admin/uses.html");
    await page.waitForSelector("#uses tr");
    await page.fill("#f-login", "student1");
    await page.click("#filters button[type=submit]");
    /* the unfiltered list was already showing a count: wait for the rows of
     * the filtered answer themselves (or give up and let the check fail) */
    await page.waitForFunction(() => {
        const rows = Array.from(document.querySelectorAll("#uses tr"));
        return rows.length > 0 && rows.every((r) => /student1/.test(r.textContent));
    }, null, {timeout: 10000}).catch(() => {});
    check("the uses log filters by user",
          (await page.$$eval("#uses tr", (rows) => rows.every((r) => /student1/.test(r.textContent)))));
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#export")]);
    const csv = fs.readFileSync(await download.path(), "utf8");
    check("the uses log exports CSV", /^id,login,experiment,category,start_date/.test(csv)
          && /student1,dummy,Dummy experiments/.test(csv), csv.slice(0, 200));
    await shot(page, "25-admin-uses");
    /* the oldest use of student1 is the one with the command and the file */
    const links = await page.$$eval("#uses a", (as) => as.map((a) => a.getAttribute("href")));
    await page.goto(CLIENT + "admin/" + links[links.length - 1]);
    await page.waitForSelector("#interactions tr");
    const inter = await page.textContent("#interactions");
    check("a use opens with its commands and files",
          /ChangeSwitch on 0/.test(inter) && /Received command/.test(inter) && /program/.test(inter),
          inter.slice(0, 200));
    await shot(page, "26-admin-use");

    const holder = await new ApiStudent("student3").start();
    const waiter = await new ApiStudent("student4").start();
    await holder.reserve();
    await holder.waitFor("Reservation::confirmed");
    await waiter.reserve();
    await page.goto(CLIENT + "admin/live.html");
    await page.waitForFunction(() => /student4/.test(document.getElementById("live-queue").textContent)
                               && /student3/.test(document.getElementById("live-instances").textContent),
                               null, {timeout: 15000});
    check("the live view shows who uses the lab and who waits", true);
    await shot(page, "27-admin-live");
    await holder.finish();
    await page.waitForFunction(() => !/student3/.test(document.getElementById("live-instances").textContent),
                               null, {timeout: 20000});
    check("the live view refreshes by itself", true);
    await waiter.waitFor("Reservation::confirmed");
    await waiter.finish();
    await holder.logout();
    await waiter.logout();

    await page.goto(CLIENT);
    await page.waitForSelector("#labs-view:not([hidden])");
    await logout(page);
    await login(page, "newstudent", "newpass1");
    const row = await page.textContent("#labs");
    check("the new user sees the lab with the time granted",
          /dummy/.test(row) && /2 min 30 s/.test(row), row);
    await shot(page, "28-new-user-labs");

    await page.goto(CLIENT + "admin/users.html");
    await page.waitForFunction(() => /Permission denied/.test(document.getElementById("admin-message").textContent),
                               null, {timeout: 10000});
    check("a student is refused the administration pages", await page.isHidden("#page"));
    await shot(page, "29-student-admin-denied");
    await page.goto(CLIENT);
    await page.waitForSelector("#labs-view:not([hidden])");
    await logout(page);
}

async function main() {
    if (!BASE) {
        console.error("WEBLAB_URL is not set");
        process.exit(2);
    }
    fs.mkdirSync(SHOTS, {recursive: true});
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), "weblab-chromium-"));
    const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM, headless: true, args: FLAGS, acceptDownloads: true,
        viewport: {width: 1200, height: 900}
    });
    const page = context.pages()[0] || await context.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(e.message));
    try {
        for (const [name, fn] of [["student cycle", studentCycle], ["lost session", lostSession],
                                  ["administration", administration]]) {
            try {
                await fn(page, context);
            } catch (e) {
                check(name + " ran to the end", false, e.stack || e.message);
                await shot(page, "failure-" + name.replace(/ /g, "-")).catch(() => {});
            }
        }
        check("no JavaScript error on any page", errors.length === 0, errors.join("; "));
    } finally {
        await context.close();
        fs.rmSync(profile, {recursive: true, force: true});
    }
    console.log("screenshots in " + SHOTS);
    if (problems.length) { console.log("failed: " + problems.join("; ")); }
    console.log(passed + " passed, " + failed + " failed");
    process.exit(failed ? 1 : 0);
}

main().catch((e) => {
    console.error(e);
    console.log(passed + " passed, " + (failed + 1) + " failed");
    process.exit(1);
});
