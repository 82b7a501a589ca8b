"""mod_weblab on MySQL/MariaDB (data and SQL coordination), one and three
cores behind the deployment's front: the student cycle, any core answering
any request, a core killed mid-run, 300 students pressing Reserve at once,
and MariaDB restarted during a run. A private mariadbd (mariadb.py) serves
the whole session."""
import hashlib
import http.client
import itertools
import json
import os
import random
import re
import signal
import threading
import time

import pytest

import mariadb as mdb
from labviews import verbose_labs, assert_one_holder_at_a_time
from deploy import deployment_factory, have_module, have_experiment_server  # noqa: F401
from deploy import children_of
from wlclient import Student, WebLabError, PUBLIC_RESERVATION_ID

pytestmark = pytest.mark.skipif(
    not (have_module() and have_experiment_server() and mdb.available()),
    reason="mod_weblab.so, experiment_server or mariadb-server missing")

ALLOWED_ERRORS = ("AH00287",)      # worker: "within MinSpareThreads"
_names = itertools.count(1)


@pytest.fixture(scope="session")
def mariadb():
    server = mdb.MariaDB()
    server.start()
    yield server
    server.remove()


def error_lines(d):
    bad = []
    for log in d.path.glob("logs/*error*.log"):
        for line in log.read_text(errors="replace").splitlines():
            if re.search(r":(error|crit|alert|emerg)\]", line) \
                    or "Segmentation fault" in line or "exit signal" in line:
                if not any(a in line for a in ALLOWED_ERRORS):
                    bad.append("%s: %s" % (log.name, line))
    return bad


def mysql_deployment(factory, server, cores=1, copies=1):
    """A started deployment on two fresh databases of server, created by
    weblab-admin with the MySQL administrator's credentials."""
    n = "%d_%d" % (os.getpid(), next(_names))
    common = ["--not-interactive", "--mysql-admin-username", "root"]
    for prefix in ("db", "coordination-db"):
        common += ["--%s-engine" % prefix, "mysql",
                   "--%s-host" % prefix, "127.0.0.1",
                   "--%s-port" % prefix, str(server.port),
                   "--%s-user" % prefix, "wl" + n,
                   "--%s-passwd" % prefix, "p@ss w%rd:" + n]
    common += ["--db-name", "wl_data_" + n,
               "--coordination-db-name", "wl_coord_" + n]
    d = factory(cores=cores, copies=copies, front=True, extra=common)
    d.data_db, d.coord_db = "wl_data_" + n, "wl_coord_" + n
    verbose_labs(d)
    d.start()
    return d


def uses(server, d):
    """The uses log: [login, reservation uuid, lab url, start, end]."""
    return server.query(
        "SELECT u.login, e.reservation_id, e.coord_address, e.start_date,"
        " e.end_date FROM UserUsedExperiment e JOIN `User` u"
        " ON u.id = e.user_id ORDER BY e.id", d.data_db)


def full_cycle(s):
    s.login()
    assert s.call("list_experiments")[0]["experiment"]["name"] == "dummy"
    r = s.reserve()
    assert PUBLIC_RESERVATION_ID.match(r["reservation_id"]["id"])
    st = s.wait_status("Reservation::confirmed")
    assert 190 < st["time"] <= 200
    assert s.command("ChangeSwitch on 0") == {
        "commandstring": "Received command: ChangeSwitch on 0"}
    assert s.finish() == {}
    deadline = time.monotonic() + 10
    while True:
        st = s.wait_status("Reservation::post_reservation")
        if st["finished"] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert st["finished"] is True and st["end_data"] == "null"
    assert s.logout() == {}


def test_weblab_admin_needs_credentials_to_create(mariadb, tmp_path):
    from deploy import run_admin, make_parent
    parent = make_parent()
    try:
        r = run_admin("create", parent / "x", "--db-engine", "mysql",
                      "--db-host", "127.0.0.1", "--db-port", mariadb.port,
                      "--db-name", "wl_missing", "--not-interactive")
        assert r.returncode == 251, r.stderr        # the original's -5
        assert "--mysql-admin-username" in r.stderr
        assert not (parent / "x").exists()
        r = run_admin("create", parent / "y", "--cores", "2")
        assert r.returncode != 0
        assert "sqlite engine selected for coordination, general database " \
               "is incompatible with multiple cores" in r.stderr
    finally:
        import shutil
        shutil.rmtree(parent, ignore_errors=True)


def test_student_cycle_one_core(mariadb, deployment_factory):
    d = mysql_deployment(deployment_factory, mariadb)
    conf = d.text("httpd/core1.conf")
    assert re.search(r'WeblabDatabase "mysql://wl[^"]*@127\.0\.0\.1:%d/'
                     % mariadb.port, conf)
    assert oct(os.stat(d.file("httpd/core1.conf")).st_mode & 0o777) \
        == "0o640"
    s = Student(d.base(0))
    full_cycle(s)
    rows = uses(mariadb, d)
    assert len(rows) == 1 and rows[0][0] == "admin"
    assert rows[0][1] == s.reservation_id.split(";")[0]
    assert rows[0][4] is not None                  # the use has ended
    assert d.admin("user list").returncode == 0
    assert error_lines(d) == []


def test_admin_commands_on_mysql(mariadb, deployment_factory):
    """weblab_db_admin*.c's statements on MariaDB: users (UTF-8 names),
    groups and subgroups, grants and revokes, experiments, instances."""
    d = mysql_deployment(deployment_factory, mariadb)
    d.admin("user add", "ana", "--password", "secret", "--name",
            "Ana P\u00e9rez", "--group", "Administrators")
    d.admin("group add", "Lab A")
    d.admin("group add", "Sub", "--parent", "Lab A")
    d.admin("group add-user", "Sub", "ana")
    d.admin("grant", "--group", "Lab A", "dummy@Dummy experiments",
            "--time", "300")
    d.admin("grant", "--user", "ana", "dummy@Dummy experiments", "--time",
            "100", "--priority", "3")
    perms = d.admin("permissions").stdout
    assert "ana::dummy@Dummy experiments" in perms and "priority=3" in perms
    d.admin("revoke", "--user", "ana", "dummy@Dummy experiments")
    assert "ana::" not in d.admin("permissions").stdout
    d.admin("user verify", "ana", "--password", "secret")
    d.admin("user passwd", "ana", "--password", "other")
    assert d.admin("user verify", "ana", "--password", "secret",
                   check=False).returncode != 0
    users = {u["login"]: u for u in json.loads(
        d.admin("user list", "--json").stdout)}
    assert users["ana"]["full_name"] == "Ana P\u00e9rez"
    assert users["ana"]["groups"] == ["Administrators", "Sub"]
    assert d.admin("user add", "ana", "--password", "x",
                   check=False).returncode != 0        # UNIQUE login
    d.admin("experiment add", "robot@Physics", "--client", "js")
    d.admin("instance add", "robot@Physics", "inst1", "--url",
            "http://127.0.0.1:1/")
    assert "inst1@robot_queue" in d.admin("instance list").stdout
    d.admin("instance remove", "robot@Physics", "inst1")
    d.admin("experiment remove", "robot@Physics")
    s = Student(d.base(0))
    s.login("ana", "other")
    s.reserve()
    s.wait_status("Reservation::confirmed")
    s.finish()
    assert "ana" in d.admin("uses", "--limit", "1").stdout
    d.admin("user disable", "ana")
    with pytest.raises(WebLabError):
        Student(d.base(0)).login("ana", "other")
    d.admin("group remove", "Sub")
    assert error_lines(d) == []


def test_three_cores_any_core_answers(mariadb, deployment_factory):
    d = mysql_deployment(deployment_factory, mariadb, cores=3)
    conf = d.text("httpd/apache_weblab_generic.conf")
    for i in (1, 2, 3):
        assert "route=route%d" % i in conf
    assert {p["name"] for p in d.status()["processes"]} >= {
        "core1", "core2", "core3", "front"}

    # log in on core 1, reserve on core 2, poll on core 3
    c1, c2, c3 = (Student(d.base(i)) for i in (1, 2, 3))
    c1.login()
    c2.session_id = c3.session_id = c1.session_id
    c2.reserve()
    assert c2.reservation_id.endswith(".route2")
    st = c3.wait_status("Reservation::confirmed", rid=c2.reservation_id)
    assert st["reservation_id"]["id"] == c2.reservation_id
    c1.reservation_id = c2.reservation_id
    assert c1.command("hi") == {"commandstring": "Received command: hi"}
    assert c3.call("poll", {"reservation_id":
                            {"id": c2.reservation_id}}) == {}
    c3.reservation_id = c2.reservation_id
    assert c3.finish() == {}

    # the whole cycle through the front, twice (sticky or not)
    full_cycle(Student(d.base(0)))
    s = Student(d.base(0))
    full_cycle(s)
    assert len(uses(mariadb, d)) == 3
    assert error_lines(d) == []


def core_pids(d, n):
    """The pid of core n's httpd parent and of its children."""
    parent = int(d.text("run/core%d.pid" % n).split()[0])
    return parent, children_of(parent)


def test_kill_one_core_mid_run(mariadb, deployment_factory):
    d = mysql_deployment(deployment_factory, mariadb, cores=3)
    s = Student(d.base(0))
    s.login()
    route = s.cookie("weblabsessionid").value.rsplit(".", 1)[1]
    n = int(route[len("route"):])
    s.reserve()
    s.wait_status("Reservation::confirmed")

    parent, kids = core_pids(d, n)
    os.kill(parent, signal.SIGKILL)
    for pid in kids:                     # the children go with it
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    from deploy import port_answers
    while port_answers(d.core_ports[n - 1]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not port_answers(d.core_ports[n - 1])

    # same cookie, same session, same reservation: another core serves it
    st = s.status()
    assert st["status"] == "Reservation::confirmed"
    assert st["reservation_id"]["id"] == s.reservation_id
    assert s.command("after the crash") == {
        "commandstring": "Received command: after the crash"}
    assert s.call("get_user_information")["login"] == "admin"
    assert s.finish() == {}
    s.wait_status("Reservation::post_reservation")
    full_cycle(Student(d.base(0)))
    rows = uses(mariadb, d)
    assert len(rows) == 2 and len({r[1] for r in rows}) == 2


# ---- 300 students at once ----

NSTUDENTS = 300
PASSWORD = "secret"


def add_students(server, d, n):
    """n students in group Administrators (the dummy grant, 200 s), with
    the original's salted SHA-1 form so that 300 logins cost little."""
    salt = "abcd"
    stored = salt + "{sha}" + hashlib.sha1(
        (salt + PASSWORD).encode()).hexdigest()
    values = ",".join("('s%03d', 'Student %03d', '', 4)" % (i, i)
                      for i in range(n))
    server.query("INSERT INTO `User` (login, full_name, email, role_id)"
                 " VALUES " + values, d.data_db)
    server.query("INSERT INTO UserAuth (user_id, auth_id, configuration)"
                 " SELECT u.id, a.id, '%s' FROM `User` u, Auth a"
                 " WHERE u.login LIKE 's___' AND a.name = 'WebLab DB'"
                 % stored, d.data_db)
    server.query("INSERT INTO UserIsMemberOf (user_id, group_id)"
                 " SELECT u.id, g.id FROM `User` u, `Group` g"
                 " WHERE u.login LIKE 's___' AND g.name = 'Administrators'",
                 d.data_db)


class Client:
    """One student on one keep-alive connection to the front, without
    cookies: any core may answer each request."""

    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method, params, path="/weblab/json/"):
        body = json.dumps({"method": method, "params": params})
        for attempt in range(3):
            try:
                self.conn.request("POST", path, body,
                                  {"Content-Type": "application/json"})
                resp = self.conn.getresponse()
                doc = json.loads(resp.read())
                break
            except (http.client.RemoteDisconnected, ConnectionResetError,
                    BrokenPipeError):
                self.conn.close()       # keep-alive closed by the front
                if attempt == 2:
                    raise
        if doc["is_exception"]:
            raise WebLabError(doc["code"], doc["message"])
        return doc["result"]


def student_run(port, login, barrier, out):
    c = Client(port)
    try:
        sid = c.call("login", {"username": login, "password": PASSWORD},
                     "/weblab/login/json/")["id"]
        barrier.wait(120)
        r = c.call("reserve_experiment", {
            "session_id": {"id": sid},
            "experiment_id": {"exp_name": "dummy",
                              "cat_name": "Dummy experiments"},
            "client_initial_data": "{}", "consumer_data": "{}"})
        rid = r["reservation_id"]["id"]
        out["reserved"] = time.time()
        st = r
        while st["status"] != "Reservation::confirmed":
            assert st["status"] in ("Reservation::waiting",
                                    "Reservation::waiting_confirmation"), st
            time.sleep(0.3 + random.random() * 0.4)
            st = c.call("get_reservation_status",
                        {"reservation_id": {"id": rid}})
        out["confirmed"] = time.time()
        c.call("finished_experiment", {"reservation_id": {"id": rid}})
        out["rid"] = rid.split(";")[0]
    except Exception as e:                  # reported by the test
        out["error"] = repr(e)
        try:
            barrier.abort()
        except Exception:
            pass


def test_300_students_reserve_at_once(mariadb, deployment_factory):
    d = mysql_deployment(deployment_factory, mariadb, cores=3, copies=3)
    add_students(mariadb, d, NSTUDENTS)
    barrier = threading.Barrier(NSTUDENTS)
    results = [dict() for _ in range(NSTUDENTS)]
    threads = [threading.Thread(target=student_run,
                                args=(d.front_port, "s%03d" % i, barrier,
                                      results[i]), daemon=True)
               for i in range(NSTUDENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    errors = [r["error"] for r in results if "error" in r]
    assert errors == [], errors[:5]
    assert all("rid" in r for r in results)
    assert len({r["rid"] for r in results}) == NSTUDENTS

    # the uses log: every student once, never two holders of one lab
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        rows = [r for r in uses(mariadb, d) if r[0].startswith("s")]
        if len(rows) == NSTUDENTS and all(r[4] for r in rows):
            break
        time.sleep(0.5)
    assert len(rows) == NSTUDENTS
    assert sorted(r[1] for r in rows) == sorted(r["rid"] for r in results)
    assert len({r[0] for r in rows}) == NSTUDENTS
    by_lab = {}
    for login, rid, lab, start, end in rows:
        assert end is not None, (login, rid)
        by_lab.setdefault(lab, []).append((start, end, rid))
    assert len(by_lab) == 3
    for lab, spans in by_lab.items():
        spans.sort()
        for (s1, e1, r1), (s2, e2, r2) in zip(spans, spans[1:]):
            assert e1 <= s2, "%s held by %s and %s at once" % (lab, r1, r2)
    left = mariadb.query("SELECT state, COUNT(*) FROM Reservation"
                         " WHERE state NOT IN ('done', 'cancelled')"
                         " GROUP BY state", d.coord_db)
    assert left == []
    # the front has 200 workers for 300 clients: it says so, and queues
    assert [ln for ln in error_lines(d)
            if not ln.startswith("front_error.log")
            or "MaxRequestWorkers" not in ln] \
        == []
    # and from the experiment servers' own view
    d.stop()
    assert_one_holder_at_a_time(d, 3, NSTUDENTS)


# ---- MariaDB restarted during a run ----

def test_mariadb_restart_during_run(mariadb, deployment_factory):
    d = mysql_deployment(deployment_factory, mariadb, cores=1, copies=2)
    a = Student(d.base(0))
    a.login()
    a.reserve()
    a.wait_status("Reservation::confirmed")

    mariadb.stop()
    answers = []
    t0 = time.monotonic()
    for _ in range(20):
        started = time.monotonic()
        try:
            a.status()
            answers.append("ok")
        except WebLabError as e:
            answers.append(e.code)
        assert time.monotonic() - started < 15        # never a hang
    assert time.monotonic() - t0 < 60
    assert set(answers) == {"JSON:Server.WebLab"}, answers
    b = Student(d.base(0))
    with pytest.raises(WebLabError) as e:
        b.login()
    assert e.value.code.startswith("JSON:Server.")
    time.sleep(3)                           # the upkeep fails meanwhile
    mariadb.start()

    # service resumes by itself: same session, same reservation
    deadline = time.monotonic() + 30
    while True:
        try:
            st = a.status()
            break
        except WebLabError:
            assert time.monotonic() < deadline, "service did not resume"
            time.sleep(0.5)
    assert st["status"] == "Reservation::confirmed"
    assert a.command("back") == {"commandstring": "Received command: back"}
    b.login()
    b.reserve()
    b.wait_status("Reservation::confirmed")
    for s in (a, b):
        assert s.finish() == {}
        s.wait_status("Reservation::post_reservation")
    rows = uses(mariadb, d)
    assert sorted(r[1] for r in rows) == sorted(
        s.reservation_id.split(";")[0] for s in (a, b))

    # clear, temporary, and logged without flooding
    log = d.text("logs/core1_error.log")
    assert "Segmentation fault" not in log and "exit signal" not in log
    failures = [ln for ln in log.splitlines() if "weblab:" in ln
                and ("failed" in ln or "could not" in ln)]
    assert 1 <= len(failures) <= 12, failures
    if os.environ.get("WEBLAB_SHOW_LOG"):
        print("\n".join(failures))
