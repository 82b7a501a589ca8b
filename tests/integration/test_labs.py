"""Labs for real: mod_weblab against an independent experiment server
written from the spec in Python (pylab.py) for each API version, batch
labs, dispose with ask_again, should_finish, keep_initializing, and labs that
hang (spec 3.2 steps 5-7, 4.4, 10.2)."""
import json
import os
import re
import subprocess
import time

import pytest

from conftest import find_free_port, Daemon
from deploy import deployment_factory, have_module, have_experiment_server  # noqa: F401
from test_api import error_lines, add_student
from wlclient import Student, WebLabError

pytestmark = pytest.mark.skipif(
    not (have_module() and have_experiment_server()),
    reason="mod_weblab.so or experiment_server not built")

PYLAB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "pylab.py")
EXP = "pylab@Python experiments"


class Lab:
    def __init__(self, d, *options, instance="py1", lab_timeout=None):
        self.port = find_free_port()
        self.record = d.path.parent / ("pylab-%d.jsonl" % self.port)
        self.daemon = Daemon(["/usr/bin/python3", PYLAB, "--port", self.port,
                              "--record", self.record] + list(options),
                             "127.0.0.1", self.port,
                             d.path.parent / ("pylab-%d.log" % self.port))
        self.daemon.start()
        self.instance = instance

    def calls(self, method=None):
        if not self.record.exists():
            return []
        rows = [json.loads(l) for l in self.record.read_text().splitlines()]
        return [r for r in rows if method is None or r["method"] == method]

    def stop(self):
        self.daemon.stop()


@pytest.fixture
def lab_deployment(deployment_factory):
    """A deployment (front, default dummy) plus pylab instances added with
    weblab-admin; lab_timeout edits the cores' WeblabLabTimeout."""
    made = []

    def make(*lab_options, api_config=None, copies=1, lab_timeout=None,
             allowed_errors=()):
        d = deployment_factory(front=True)
        d.allowed_errors = allowed_errors
        if lab_timeout is not None:
            conf = d.path / "httpd" / "core1.conf"
            text = conf.read_text()
            text += "\nWeblabLabTimeout %s\nWeblabLabConnectTimeout 1\n" % \
                lab_timeout
            d.db_exec("SELECT 1")      # nothing: keep ownership helpers warm
            subprocess.run(["/usr/bin/python3", "-c",
                            "import sys; open(sys.argv[1], 'w').write("
                            "sys.argv[2])", str(conf), text], check=True,
                           user=d.owner()[0], group=d.owner()[1],
                           extra_groups=[])
        d.admin("experiment add", EXP)
        d.admin("grant", "--group", "Administrators", EXP, "--time", "300")
        labs = []
        made.append((d, labs))          # stopped at teardown even if this fails
        for i in range(copies):
            lab = Lab(d, *lab_options, instance="py%d" % (i + 1))
            labs.append(lab)
            args = [EXP, lab.instance, "--url",
                    "http://127.0.0.1:%d/" % lab.port,
                    "--resource", "py%d@py_queue" % (i + 1)]
            if api_config:
                args += ["--api", api_config]
            d.admin("instance add", *args)
        d.start()
        return d, labs

    yield make
    for d, labs in made:
        for lab in labs:
            lab.stop()
        assert [line for line in error_lines(d)
                if not any(a in line for a in d.allowed_errors)] == []


def use(s):
    s.reserve("pylab", "Python experiments")
    return s.wait_status("Reservation::confirmed")


@pytest.mark.parametrize("api", ["1", "2", "2_concurrent"])
def test_each_api_version(lab_deployment, api):
    d, (lab,) = lab_deployment("--api", api)
    s = Student(d.base(0))
    s.login()
    st = use(s)
    time.sleep(1.5)                       # the upkeep asks should_finish
    assert s.command("hello") == {"commandstring": "pylab got: hello"}
    assert s.send_file("QUJD", "prog") == {
        "commandstring": "pylab file prog of 4 chars"}
    s.finish()
    st = s.wait_status("Reservation::post_reservation")
    assert len(lab.calls("get_api")) == 1       # asked once, then cached
    (start,) = lab.calls("start_experiment")
    if api == "1":
        assert start["args"] == []
        assert lab.calls("should_finish") == []
        assert lab.calls("dispose")[0]["args"] == []
        return
    args = start["args"]
    if api == "2_concurrent":
        sid = args[0]
        assert isinstance(sid, dict) and re.match(r"^[\w-]{16}$", sid["id"])
        args = args[1:]
        for m in ("send_command_to_device", "send_file_to_device",
                  "dispose"):
            assert lab.calls(m)[0]["args"][0] == sid, m
    cid, sid_data = json.loads(args[0]), json.loads(args[1])
    assert cid["back"].endswith(
        "/weblab/labs/Python%20experiments/pylab/?finished=true")
    assert sid_data["request.username"] == "admin"
    assert sid_data["request.experiment_id.experiment_name"] == "pylab"
    assert sid_data["request.experiment_id.category_name"] == \
        "Python experiments"
    assert sid_data["priority.queue.slot.length"] == "300"
    assert sid_data["priority.queue.slot.initialization_in_accounting"] \
        is True
    assert re.match(r"^\d+\.\d\d$",
                    sid_data["priority.queue.slot.start.timestamp"])
    assert sid_data["weblab_reservation_id"] == \
        s.reservation_id.split(";")[0]
    assert lab.calls("should_finish")        # asked after the start


def test_initial_configuration_reaches_the_client(lab_deployment):
    d, (lab,) = lab_deployment()
    s = Student(d.base(0))
    s.login()
    st = use(s)
    assert st["initial_configuration"] == '{"lab": "pylab"}'


def test_batch_lab_finishes_right_after_confirmation(lab_deployment):
    d, (lab,) = lab_deployment("--batch", "--end-data", "results!")
    s = Student(d.base(0))
    s.login()
    s.reserve("pylab", "Python experiments")
    deadline = time.monotonic() + 10
    while True:
        st = s.status()
        if st["status"] == "Reservation::post_reservation" and st["finished"]:
            break
        assert time.monotonic() < deadline, st
        time.sleep(0.1)
    assert st["end_data"] == '"results!"'
    assert st["initial_data"] == json.dumps('{"lab": "pylab"}')
    rows = d.db_query("SELECT finish_reason FROM UserUsedExperiment")
    assert rows == [[3]]


def test_dispose_ask_again_keeps_the_slot_until_finished(lab_deployment):
    d, (lab,) = lab_deployment("--dispose-ask-again", "3")
    add_student(d, "bob")
    a, b = Student(d.base(0)), Student(d.base(0))
    a.login()
    b.login("bob", "secret")
    use(a)
    b.reserve("pylab", "Python experiments")
    a.finish()
    st = a.status()
    assert st["status"] == "Reservation::post_reservation"
    assert st["finished"] is False and st["end_data"] == {}
    assert b.status()["status"] == "Reservation::waiting"
    a.wait_status("Reservation::post_reservation")
    deadline = time.monotonic() + 10
    while not a.status()["finished"]:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert len(lab.calls("dispose")) == 4
    b.wait_status("Reservation::confirmed")
    # the slot went to bob only after the last dispose
    first_b_start = lab.calls("start_experiment")[1]["t"]
    assert first_b_start >= lab.calls("dispose")[-1]["t"]


def test_should_finish_negative_ends_the_use(lab_deployment):
    d, (lab,) = lab_deployment("--should-finish", "0.5,-1")
    s = Student(d.base(0))
    s.login()
    use(s)
    st = s.wait_status("Reservation::post_reservation", timeout=10,
                       every=0.3)
    assert len(lab.calls("should_finish")) >= 2
    rows = d.db_query("SELECT end_date FROM UserUsedExperiment")
    assert rows[0][0] is not None


def test_keep_initializing_ends_the_use_with_a_clear_error(lab_deployment):
    """start_experiment answers keep_initializing: true, which the original
    never implemented (it raises NotImplementedError after recording the use,
    leaving the student in waiting_confirmation until the reservation ends).
    Here the use is recorded with the reason, the lab is disposed at once,
    the student gets a finished post_reservation, the instance stays in
    service and the error log says why."""
    why = "keep_initializing, which WebLab-Deusto does not implement"
    d, (lab,) = lab_deployment("--keep-initializing", allowed_errors=(why,))
    s = Student(d.base(0))
    s.login()
    s.reserve("pylab", "Python experiments")
    deadline = time.monotonic() + 10
    while True:
        st = s.status()
        assert st["status"] != "Reservation::waiting_instances", st
        if st["status"] == "Reservation::post_reservation" and st["finished"]:
            break
        assert time.monotonic() < deadline, st
        time.sleep(0.1)
    assert st["end_data"] == "null", st          # json.dumps(None)
    assert len(lab.calls("start_experiment")) == 1
    assert len(lab.calls("dispose")) == 1      # cleaned up, not left running
    assert lab.calls("should_finish") == []
    (use,) = d.db_query("SELECT id, finish_reason, end_date FROM"
                        " UserUsedExperiment")
    assert use[1] == 2 and use[2] is not None
    rows = d.db_query("SELECT response FROM UserCommand WHERE command ="
                      " '@@@keep_initializing@@@'")
    assert len(rows) == 1 and "NotImplementedError" in rows[0][0]
    logged = [l for l in error_lines(d) if why in l]
    assert len(logged) == 1 and "py1" in logged[0], error_lines(d)
    # the instance is not broken: it stays in service
    rows = d.db_query("SELECT working FROM ResourceInstance WHERE name ="
                      " 'py1'", db="WebLabCoordination")
    assert rows == [[1]]


def test_a_lab_that_never_answers_does_not_hold_anyone(lab_deployment):
    """start_experiment hangs: after the lab timeout the instance is marked
    broken and the student is back in the queue (waiting_instances); the
    dummy lab of the same deployment keeps serving others meanwhile."""
    d, (lab,) = lab_deployment("--hang-start", lab_timeout=2)
    s = Student(d.base(0))
    s.login()
    s.reserve("pylab", "Python experiments")
    other = Student(d.base(0))
    other.login()
    other.reserve()                       # the dummy lab, unaffected
    assert other.wait_status("Reservation::confirmed", timeout=10)
    assert other.command("still here")["commandstring"] == \
        "Received command: still here"
    st = s.wait_status("Reservation::waiting_instances", timeout=20,
                       every=0.5)
    assert st["position"] == 0
    rows = d.db_query("SELECT working, error FROM ResourceInstance WHERE"
                      " name = 'py1'", db="WebLabCoordination")
    assert rows[0][0] == 0 and rows[0][1]


FAKE_WEBLABLIB = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "fake_weblablib_lab.py")


@pytest.fixture
def weblablib_lab(deployment_factory):
    """A deployment with one unmanaged (weblablib) lab instance."""
    d = deployment_factory(front=True)
    proc = subprocess.Popen(["/usr/bin/python3", FAKE_WEBLABLIB, "--port",
                             "0", "--user", "weblab", "--password", "s3cret",
                             "--ignore-stdin"],
                            stdout=subprocess.PIPE, text=True)
    port = int(proc.stdout.readline().split()[1])
    d.admin("experiment add", "ulab@Unmanaged experiments")
    d.admin("grant", "--group", "Administrators",
            "ulab@Unmanaged experiments", "--time", "300")
    d.admin("instance add", "ulab@Unmanaged experiments", "u1", "--url",
            "http://127.0.0.1:%d" % port, "--transport", "http",
            "--auth-user", "weblab", "--auth-password", "s3cret")
    d.start()
    yield d, port
    proc.terminate()
    proc.wait()
    assert error_lines(d) == []


def debug_log(port):
    import urllib.request
    with urllib.request.urlopen("http://127.0.0.1:%d/_debug/log" % port) as r:
        return json.loads(r.read())


def test_unmanaged_weblablib_lab_cycle(weblablib_lab):
    d, port = weblablib_lab
    s = Student(d.base(0))
    s.login()
    s.reserve("ulab", "Unmanaged experiments")
    st = s.wait_status("Reservation::confirmed")
    conf = json.loads(st["initial_configuration"])
    assert re.match(r"^http://.*/callback/[^/]+$", conf["url"])
    # commands do not go through WebLab: a clear error, the use goes on
    with pytest.raises(WebLabError) as e:
        s.command("nope")
    assert e.value.code == "JSON:Server.UserProcessing"
    assert s.status()["status"] == "Reservation::confirmed"
    log = debug_log(port)["requests"]
    start = [r for r in log if r["method"] == "POST"
             and r["path"] == "/weblab/sessions/"][0]
    assert start["auth_ok"] is True
    body = start["json"]
    assert isinstance(body["client_initial_data"], dict)
    assert isinstance(body["server_initial_data"], dict)
    assert body["back"] == body["client_initial_data"]["back"]
    s.finish()
    s.wait_status("Reservation::post_reservation")
    time.sleep(0.5)
    log = debug_log(port)["requests"]
    deletes = [r for r in log if r["method"] == "POST"
               and r["path"].startswith("/weblab/sessions/")
               and r["path"] != "/weblab/sessions/"]
    assert len(deletes) == 1 and deletes[0]["json"] == {"action": "delete"}


def test_concurrent_server_with_auth_serves_two_instances(deployment_factory,
                                                          daemon_factory):
    """One experiment_server in API 2_concurrent behind an auth token serves
    two instances at once: two students, two lab sessions on one server."""
    from deploy import EXPERIMENT_SERVER
    from conftest import find_free_port
    d = deployment_factory(front=True)
    port = find_free_port()
    daemon_factory([EXPERIMENT_SERVER, "--port", port, "--api",
                    "2_concurrent", "--auth", "t0ken"], port, name="es")
    d.admin("experiment add", "conc@Concurrent experiments")
    d.admin("grant", "--group", "Administrators",
            "conc@Concurrent experiments", "--time", "300")
    for i in (1, 2):
        d.admin("instance add", "conc@Concurrent experiments", "c%d" % i,
                "--url", "http://127.0.0.1:%d/weblab" % port,
                "--resource", "c%d@conc_queue" % i, "--auth-password",
                "t0ken")
    d.start()
    from test_api import add_student
    add_student(d, "bob")
    a, b = Student(d.base(0)), Student(d.base(0))
    a.login()
    b.login("bob", "secret")
    for s in (a, b):
        s.reserve("conc", "Concurrent experiments")
    for s in (a, b):
        s.wait_status("Reservation::confirmed")
    assert a.command("one")["commandstring"] == "Received command: one"
    assert b.command("two")["commandstring"] == "Received command: two"
    # each student has a session of its own on the one server: its counters
    # hold its own command and this question, not the other student's
    for s in (a, b):
        assert "this session: 2 commands" in \
            s.command("server_info")["commandstring"]
    a.finish()
    b.finish()
    assert error_lines(d) == []
