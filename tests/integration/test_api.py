"""The JSON API end to end: real apache2 with the built module, real
experiment_server processes, deployments made by weblab-admin, driven over
HTTP as a client written for the original WebLab-Deusto would (spec 1.7,
10.1)."""
import base64
import json
import re
import subprocess
import time

import pytest

from deploy import deployment_factory, have_module, have_experiment_server  # noqa: F401
from wlclient import (Student, WebLabError, PUBLIC_RESERVATION_ID,
                      SESSION_ID, UUID)

pytestmark = pytest.mark.skipif(
    not (have_module() and have_experiment_server()),
    reason="mod_weblab.so or experiment_server not built")

# error-log lines that are expected; anything else at error level fails
ALLOWED_ERRORS = ("AH00287",)      # worker: "within MinSpareThreads"


def error_lines(d):
    bad = []
    for log in d.path.glob("logs/*error*.log"):
        for line in log.read_text(errors="replace").splitlines():
            if re.search(r":(error|crit|alert|emerg)\]", line) \
                    or "Segmentation fault" in line or "exit signal" in line:
                if not any(a in line for a in ALLOWED_ERRORS):
                    bad.append("%s: %s" % (log.name, line))
    return bad


@pytest.fixture
def demo(deployment_factory):
    """A started default deployment with a front httpd; its error logs must
    stay clean."""
    made = []

    def make(**kwargs):
        kwargs.setdefault("front", True)
        d = deployment_factory(**kwargs)
        d.start()
        made.append(d)
        return d

    yield make
    for d in made:
        assert error_lines(d) == []


def add_student(d, login, password="secret", time_allowed=None,
                group="Administrators"):
    d.admin("user add", login, "--password", password, "--name",
            login.title())
    if time_allowed is None:
        d.admin("group add-user", group, login)
    else:
        d.admin("grant", "--user", login, "dummy@Dummy experiments",
                "--time", str(time_allowed))


def test_full_student_cycle_exact_shapes(demo):
    d = demo()
    s = Student(d.base(0))
    r = s.login()
    assert set(r) == {"id"} and SESSION_ID.match(r["id"])
    cookies = {c.name: c for c in s.jar}
    assert cookies["weblabsessionid"].value == r["id"] + ".route1"
    assert cookies["weblabsessionid"].path == "/weblab/"
    assert cookies["loginweblabsessionid"].value == r["id"] + ".route1"
    set_cookie = s.last_headers.get_all("Set-Cookie")
    assert any(h.startswith("weblab_reservation_id=;") and "1970" in h
               for h in set_cookie), set_cookie

    info = s.call("get_user_information")
    assert info["login"] == "admin" and info["role"] == {"name":
                                                         "administrator"}
    assert set(info) == {"login", "full_name", "email", "role", "admin_url",
                         "instructor_url"}

    exps = s.call("list_experiments")
    assert len(exps) == 1
    e = exps[0]
    assert set(e) == {"experiment", "time_allowed", "priority",
                      "initialization_in_accounting", "permanent_id",
                      "permission_id", "permission_scope", "total_uses",
                      "latest_use"}
    assert e["experiment"]["name"] == "dummy"
    assert e["experiment"]["category"] == {"name": "Dummy experiments"}
    assert e["experiment"]["client"] == {
        "client_id": "js",
        "configuration": {"html.file": "nativelabs/dummy.html",
                          "builtin": True}}
    assert e["time_allowed"] == 200.0 and isinstance(e["time_allowed"], float)
    assert e["priority"] == 5 and e["initialization_in_accounting"] is True
    assert e["permanent_id"] == "Administrators users::dummy@Dummy experiments"
    assert e["permission_scope"] == "group"
    assert e["total_uses"] == 0 and e["latest_use"] == {}

    r = s.reserve()
    assert r["status"] in ("Reservation::waiting_confirmation",
                           "Reservation::confirmed")
    assert PUBLIC_RESERVATION_ID.match(r["reservation_id"]["id"])
    assert r["url"] == "http://localhost:%d/weblab/" % d.front_port

    st = s.wait_status("Reservation::confirmed")
    assert set(st) == {"status", "reservation_id", "time",
                       "initial_configuration", "url",
                       "remote_reservation_id"}
    assert 190 < st["time"] <= 200
    assert st["initial_configuration"] == "{}"
    assert st["remote_reservation_id"] == {"id": ""}
    assert st["reservation_id"]["id"] == s.reservation_id

    assert s.command("ChangeSwitch on 0") == {
        "commandstring": "Received command: ChangeSwitch on 0"}
    program = base64.b64encode(b"program contents").decode()
    assert s.send_file(program, "program") == {
        "commandstring": "Received file with len: %d and file_info: program"
                         % len(program)}
    assert s.call("poll", {"reservation_id": {"id": s.reservation_id}}) == {}
    assert s.finish() == {}
    st = s.wait_status("Reservation::post_reservation")
    if not st["finished"]:
        time.sleep(0.5)
        st = s.status()
    assert st == {"status": "Reservation::post_reservation",
                  "reservation_id": {"id": s.reservation_id.split(";")[0]},
                  "finished": True, "initial_data": "\"{}\"",
                  "end_data": "null"}
    assert s.logout() == {}
    with pytest.raises(WebLabError) as e:
        s.call("check_user_session", {"session_id": {"id": s.session_id}})
    assert e.value.code == "JSON:Client.SessionNotFound"
    assert e.value.message == "Core Users session not found"

    # every use is logged: the use, its commands and its file
    uuid = s.reservation_id.split(";")[0]
    uses = d.db_query("SELECT id, end_date, finish_reason FROM"
                      " UserUsedExperiment WHERE reservation_id = ?", [uuid])
    assert len(uses) == 1 and uses[0][1] is not None and uses[0][2] == 0
    cmds = [c[0] for c in d.db_query(
        "SELECT command FROM UserCommand WHERE experiment_use_id = ?"
        " ORDER BY id", [uses[0][0]])]
    assert cmds == ["@@@initial::request@@@", "@@@initial::response@@@",
                    "ChangeSwitch on 0", "@@@finish@@@"]
    files = d.db_query("SELECT file_info, response FROM UserFile WHERE"
                       " experiment_use_id = ?", [uses[0][0]])
    assert files == [["program", "Received file with len: %d and file_info:"
                      " program" % len(program)]]
    # and list_experiments now counts it
    s2 = Student(d.base(0))
    s2.login()
    e = s2.call("list_experiments")[0]
    assert e["total_uses"] == 1 and re.match(r"\d{4}-\d\d-\d\dT",
                                             e["latest_use"])


def test_session_from_header_query_and_cookie_without_route(demo):
    d = demo()
    s = Student(d.base(0))
    sid = s.login()["id"]
    fresh = Student(d.base(0))       # no cookies
    assert fresh.call("check_user_session",
                      headers={"X-WebLab-session-id": sid}) is True
    assert fresh.call("check_user_session",
                      path="/weblab/json/?session_id=" + sid) is True
    assert fresh.call("check_user_session",
                      headers={"Cookie": "weblabsessionid=%s.route7" % sid}
                      ) is True
    assert fresh.call("check_user_session", {"session_id": sid}) is True
    # answers set the session cookie, as the original does
    assert fresh.cookie("weblabsessionid").value == sid + ".route1"
    with pytest.raises(WebLabError) as e:
        Student(d.base(0)).call("check_user_session")
    assert e.value.code == "JSON:Client.SessionNotFound"


def test_two_students_one_instance_queue(demo):
    d = demo()
    add_student(d, "bob")
    a, b = Student(d.base(0)), Student(d.base(0))
    a.login()
    b.login("bob", "secret")
    a.reserve()
    a.wait_status("Reservation::confirmed")
    r = b.reserve()
    assert r["status"] == "Reservation::waiting" and r["position"] == 0
    assert set(r) == {"status", "reservation_id", "position"}
    time.sleep(0.3)
    assert b.status()["status"] == "Reservation::waiting"
    # a command before confirmation is refused and changes nothing
    with pytest.raises(WebLabError) as e:
        b.command("ChangeSwitch on 0")
    assert e.value.code == "JSON:Client.NoCurrentReservation"
    a.finish()
    b.wait_status("Reservation::confirmed")
    assert b.command("x") == {"commandstring": "Received command: x"}


def test_two_dummy_copies_serve_two_students_at_once(demo):
    d = demo(copies=2)
    add_student(d, "bob")
    a, b = Student(d.base(0)), Student(d.base(0))
    a.login()
    b.login("bob", "secret")
    a.reserve()
    b.reserve()
    a.wait_status("Reservation::confirmed")
    b.wait_status("Reservation::confirmed")
    assert a.command("one")["commandstring"] == "Received command: one"
    assert b.command("two")["commandstring"] == "Received command: two"
    rows = d.db_query("SELECT coord_address FROM UserUsedExperiment")
    assert len({r[0] for r in rows}) == 2      # two different labs


def test_poll_timeout_ends_the_reservation(demo):
    d = demo(extra=["--poll-time", "3"])
    s = Student(d.base(0))
    s.login()
    s.reserve()
    s.wait_status("Reservation::confirmed")
    time.sleep(6)                 # no poll for twice the poll time
    uuid = s.reservation_id.split(";")[0]
    rows = d.db_query("SELECT end_date, finish_reason FROM"
                      " UserUsedExperiment WHERE reservation_id = ?", [uuid])
    assert rows and rows[0][0] is not None and rows[0][1] == 1
    with pytest.raises(WebLabError) as e:
        s.command("late")
    assert e.value.code == "JSON:Client.NoCurrentReservation"
    assert s.status()["status"] == "Reservation::post_reservation"


def test_time_allowed_expiry(demo):
    d = demo()
    add_student(d, "shorty", time_allowed=3)
    s = Student(d.base(0))
    s.login("shorty", "secret")
    s.reserve()
    st = s.wait_status("Reservation::confirmed")
    assert st["time"] <= 3
    st = s.wait_status("Reservation::post_reservation", timeout=10,
                       every=0.5)
    with pytest.raises(WebLabError) as e:
        s.command("late")
    assert e.value.code == "JSON:Client.NoCurrentReservation"


def test_graceful_restart_loses_nothing(demo):
    d = demo()
    s = Student(d.base(0))
    s.login()
    s.reserve()
    s.wait_status("Reservation::confirmed")
    conf = d.path / "httpd" / "core1.conf"
    owner = d.owner()
    subprocess.run(["/usr/sbin/apache2", "-f", str(conf), "-k", "graceful"],
                   check=True, user=owner[0], group=owner[1],
                   extra_groups=[])
    time.sleep(1.5)
    assert s.call("check_user_session") is True
    assert s.status()["status"] == "Reservation::confirmed"
    assert s.command("after restart")["commandstring"] == \
        "Received command: after restart"
    s.finish()
    s.wait_status("Reservation::post_reservation")


def count_rows(d):
    return (d.db_query("SELECT COUNT(*) FROM WebSession",
                       db="WebLabCoordination")[0][0],
            d.db_query("SELECT COUNT(*) FROM Reservation",
                       db="WebLabCoordination")[0][0],
            d.db_query("SELECT COUNT(*) FROM UserCommand")[0][0])


def test_bad_input_gets_error_answers_and_changes_nothing(demo):
    d = demo()
    s = Student(d.base(0))
    s.login()
    before = count_rows(d)

    def err(body, path="/weblab/json/"):
        status, text = s.raw(body if isinstance(body, bytes)
                             else body.encode(), path)
        assert status == 200
        doc = json.loads(text)
        assert doc["is_exception"] is True, doc
        return doc["code"], doc["message"]

    assert err("{not json") == ("JSON:Server.WebLab",
                                "Couldn't deserialize message")
    assert err('{"params": {}}') == ("JSON:Server.WebLab",
                                     "Missing 'method' attr")
    assert err('{"method": "rm -rf /", "params": {}}') == (
        "JSON:Server.WebLab", "Method not recognized")
    assert err('{"method": 42}')[1] == "Method not recognized"
    code, _ = err('{"method": "login", "params": {"username": 1,'
                  ' "password": "x"}}', "/weblab/login/json/")
    assert code == "JSON:Server.WebLab"
    code, _ = err('{"method": "reserve_experiment", "params":'
                  ' {"experiment_id": "dummy@Dummy experiments"}}')
    assert code == "JSON:Server.WebLab"
    code, _ = err('{"method": "list_experiments", "params":'
                  ' {"session_id": ["x"]}}')
    assert code == "JSON:Server.WebLab"
    assert err('{"method": "list_experiments", "params": {"session_id":'
               ' "\'; DROP TABLE WebSession; --"}}') == (
        "JSON:Client.SessionNotFound", "Core Users session not found")
    assert err('{"method": "get_reservation_status", "params":'
               ' {"reservation_id": {"id": "00000000-0000-4000-8000-'
               '000000000000;x.route1"}}}') == (
        "JSON:Client.SessionNotFound", "Core Reservations session not found")
    # 10 MB body: refused in the protocol's own form
    big = b'{"method": "login", "params": {"username": "' + b"a" * (
        10 * 1024 * 1024) + b'"}}'
    code, msg = err(big, "/weblab/login/json/")
    assert code == "JSON:Server.WebLab" and "too large" in msg
    # SQL metacharacters in a login: just wrong credentials
    t0 = time.monotonic()
    code, msg = err(json.dumps({"method": "login", "params": {
        "username": "admin' OR '1'='1", "password": "x' OR '1'='1"}}),
        "/weblab/login/json/")
    assert (code, msg) == ("JSON:Client.InvalidCredentials",
                           "Invalid username or password!")
    assert time.monotonic() - t0 >= 1.9      # the deliberate delay
    assert s.call("check_user_session") is True
    assert count_rows(d) == before


def test_someone_elses_reservation_is_not_found(demo):
    d = demo()
    add_student(d, "mallory")
    a, m = Student(d.base(0)), Student(d.base(0))
    a.login()
    m.login("mallory", "secret")
    a.reserve()
    a.wait_status("Reservation::confirmed")
    for method, extra in (("get_reservation_status", {}),
                          ("send_command",
                           {"command": {"commandstring": "steal"}}),
                          ("finished_experiment", {})):
        with pytest.raises(WebLabError) as e:
            m.call(method, dict({"reservation_id": {"id": a.reservation_id}},
                                **extra))
        assert e.value.code == "JSON:Client.SessionNotFound", method
    assert a.status()["status"] == "Reservation::confirmed"
    assert d.db_query("SELECT COUNT(*) FROM UserCommand WHERE command ="
                      " 'steal'")[0][0] == 0


def test_get_json_lists_methods(demo):
    d = demo()
    import urllib.request
    with urllib.request.urlopen(d.base(0) + "/weblab/json/") as r:
        page = r.read().decode()
    assert "reserve_experiment" in page and "<html" in page


def test_any_core_child_serves_any_request(demo):
    """Sessions and reservations live in the database: talking to the core
    directly (no front, no sticky route) works the same."""
    d = demo()
    s = Student(d.base(0))
    s.login()
    direct = Student(d.base(1))
    assert direct.call("check_user_session",
                       {"session_id": s.session_id}) is True
    s.reserve()
    st = direct.call("get_reservation_status",
                     {"reservation_id": {"id": s.reservation_id}})
    assert st["reservation_id"]["id"] == s.reservation_id
    assert re.match(UUID, s.reservation_id)
