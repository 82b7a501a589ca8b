"""Health checkers (spec 3.6, the original's HostIsUpAndRunningHandler and
WebcamIsUpAndRunningHandler) end to end: real apache2 with mod_weblab, a
real experiment server, and the checked things served by this test (a TCP
listener, a tiny webcam on http.server). A failing checker takes the
instance out of service with its reason in `weblab-admin status` and
server-status, sends its student back to the head of the queue, and the
instance rejoins by itself once the check passes again. weblab-admin
configures them (instance add / instance checkers / instance list)."""
import html
import http.server
import json
import socket
import threading
import time
import urllib.request

import pytest

from conftest import find_free_port
from deploy import deployment_factory, have_module, have_experiment_server  # noqa: F401
from test_api import error_lines
from wlclient import Student

pytestmark = pytest.mark.skipif(
    not (have_module() and have_experiment_server()),
    reason="mod_weblab.so or experiment_server not built")

EXP = "dummy@Dummy experiments"


class Listener:
    """A TCP port of ours that we open and close; connections are accepted
    and closed at once (a full accept queue would look like a dead host)."""

    def __init__(self):
        self.port = find_free_port()
        self.sock = None
        self.accepted = 0

    def open(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(16)
        s.settimeout(0.2)
        self.sock = s
        threading.Thread(target=self._accept, args=(s,), daemon=True).start()

    def _accept(self, s):
        while self.sock is s:
            try:
                conn, _ = s.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            conn.close()

    def close(self):
        if self.sock:
            s, self.sock = self.sock, None
            s.close()


class Webcam:
    """http.server answering GET /image.jpg with self.content_type."""

    def __init__(self):
        cam = self
        self.content_type = "image/jpeg"
        self.hits = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                cam.hits += 1
                body = b"\xff\xd8\xff\xe0fake jpeg" \
                    if cam.content_type.startswith("image/") \
                    else b"<html>camera offline</html>"
                self.send_response(200)
                self.send_header("Content-Type", cam.content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d/image.jpg" % \
            self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener():
    lst = Listener()
    yield lst
    lst.close()


@pytest.fixture
def webcam():
    cam = Webcam()
    yield cam
    cam.stop()


def checked_every_second(d, secs=1):
    """WeblabCheckInterval 1 in the core (the default is 30 s)."""
    with open(d.path / "httpd" / "core1.conf", "a") as f:
        f.write("\nWeblabCheckInterval %d\n" % secs)


def instance(d, name="exp1"):
    """exp1 as `weblab-admin status --json` shows it ({} until a core has
    synced the instances)."""
    found = [i for i in d.status()["instances"] or []
             if i["instance"] == name]
    return found[0] if found else {}


def broken(d, name="exp1"):
    """The instance when it is out of service, else None."""
    i = instance(d, name)
    return i if i.get("working") is False else None


def wait_for(what, cond, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        assert time.monotonic() < deadline, "never: %s" % what
        time.sleep(0.3)


def server_status(d, auto=True):
    with urllib.request.urlopen(d.base(1) + "/server-status" +
                                ("?auto" if auto else "")) as r:
        return r.read().decode()


def test_host_checker_breaks_requeues_and_rejoins(deployment_factory,
                                                  listener):
    d = deployment_factory(copies=1)
    checked_every_second(d)
    listener.open()
    target = "127.0.0.1:%d" % listener.port
    r = d.admin("instance checkers", EXP, "exp1", "--check-host", target,
                "--check-timeout", "2")
    assert r.stdout == "instance exp1 of %s has 1 health check now\n" % EXP
    d.start()
    s = Student(d.base(1))
    s.login()
    s.reserve()
    s.wait_status("Reservation::confirmed")
    wait_for("the host checked", lambda: listener.accepted > 0)
    assert instance(d)["working"] is True

    # the host goes away: out of service with the reason, student re-queued
    listener.close()
    inst = wait_for("exp1 broken", lambda: broken(d))
    assert inst["error"] == ("host %s: cannot connect: Connection refused"
                             " (2 tries)" % target)
    # its only instance is out: the student waits for one to come back
    assert s.status()["status"] == "Reservation::waiting_instances"
    text = d.admin("status").stdout
    assert "broken: host %s: cannot connect" % target in text
    assert "WeblabInstancesWorking: 0" in server_status(d)
    assert d.db_query("SELECT command FROM UserCommand WHERE command ="
                      " '@@@lab failed@@@'") == []   # a check, not a lab call

    # back: the instance rejoins and the waiting student gets it again
    listener.open()
    st = s.wait_status("Reservation::confirmed", timeout=30)
    assert st["reservation_id"]["id"] == s.reservation_id
    inst = instance(d)
    assert inst["working"] is True and inst["error"] is None
    assert s.command("still here")["commandstring"] == \
        "Received command: still here"
    assert error_lines(d) == []


def test_webcam_checker_content_type(deployment_factory, webcam):
    d = deployment_factory(copies=2)
    checked_every_second(d)
    # the webcam watches exp2 only: exp1 keeps serving
    d.admin("instance checkers", EXP, "exp2", "--check-webcam", webcam.url)
    d.start()
    wait_for("the webcam checked", lambda: webcam.hits > 0)
    assert instance(d, "exp2")["working"] is True

    webcam.content_type = "text/html"
    inst = wait_for("exp2 broken", lambda: broken(d, "exp2"))
    assert inst["error"] == ("webcam %s: Content-Type text/html, not"
                             " image/jpeg, image/jpg or image/png (3 tries)"
                             % webcam.url)
    assert instance(d, "exp1")["working"] is True
    assert "WeblabInstancesWorking: 1" in server_status(d)
    assert html.escape("broken: " + inst["error"], quote=False) in \
        server_status(d, auto=False)
    # students are given the working one only
    s = Student(d.base(1))
    s.login()
    s.reserve()
    s.wait_status("Reservation::confirmed")
    assert s.command("x")["commandstring"] == "Received command: x"

    webcam.content_type = "image/png"
    wait_for("exp2 back", lambda: instance(d, "exp2").get("working"),
             timeout=30)
    assert instance(d, "exp2")["error"] is None
    assert error_lines(d) == []


def test_shared_resource_stays_out_until_every_instance_passes(
        deployment_factory, webcam):
    """Two experiments on one resource: its webcam fails for one of them.
    The re-test must not put the resource back because the other one
    answers (it would flap in and out every few seconds)."""
    d = deployment_factory(copies=1)
    # one health pass at start, the next in a minute: only the re-tests
    # (5 s, then every 10 s) decide meanwhile
    checked_every_second(d, 60)
    url = d.db_query("SELECT url FROM ExperimentInstance WHERE"
                     " instance_name = 'exp1'")[0][0]
    # cam1 (sorted first) is re-tested before exp1, whose test_me passes
    d.admin("experiment add", "cam@Dummy experiments")
    d.admin("instance add", "cam@Dummy experiments", "cam1", "--url", url,
            "--resource", "dummy1@dummy_queue", "--check-webcam", webcam.url)
    webcam.content_type = "text/html"
    d.start()
    wait_for("dummy1 broken", lambda: broken(d))
    # re-tested after 5 s, then every 10 s: it stays out all along
    deadline = time.monotonic() + 12
    while time.monotonic() < deadline:
        inst = instance(d, "exp1")
        assert not inst["working"], "came back with a failing webcam"
        assert "webcam %s: Content-Type text/html" % webcam.url in \
            inst["error"]
        time.sleep(0.3)
    webcam.content_type = "image/jpeg"
    wait_for("dummy1 back", lambda: instance(d).get("working"), timeout=20)
    assert instance(d, "cam1")["working"] is True
    assert error_lines(d) == []


def test_admin_configures_and_lists_checkers(deployment_factory):
    d = deployment_factory(copies=1)
    r = d.admin("instance add", EXP, "cam1", "--url", "http://127.0.0.1:9/",
                "--check-webcam", "http://cam:secret@10.0.0.9/img.jpg",
                "--check-host", "10.0.0.9:554", "--check-timeout", "3")
    assert r.stdout.endswith("with 2 health checks\n")
    listed = {i["instance"]: i for i in
              json.loads(d.admin("instance list", "--json").stdout)}
    assert listed["cam1"]["checkers"] == [
        {"type": "webcam", "target": "http://cam:secret@10.0.0.9/img.jpg",
         "timeout": 3.0},
        {"type": "host", "target": "10.0.0.9:554", "timeout": 3.0}]
    assert listed["exp1"]["checkers"] == []
    table = d.admin("instance list").stdout
    assert table.splitlines()[0].split()[-1] == "CHECKS"
    assert "webcam http://cam:secret@10.0.0.9/img.jpg, host 10.0.0.9:554" \
        in table
    assert json.loads(d.admin("instance checkers", EXP, "cam1",
                              "--json").stdout)[1]["target"] == \
        "10.0.0.9:554"
    text = d.admin("instance checkers", EXP, "cam1").stdout.splitlines()
    assert text[0].split() == ["TYPE", "TARGET", "TIMEOUT", "TRIES"]
    assert text[2].split() == ["host", "10.0.0.9:554", "3", "2"]

    # replaced, then cleared
    d.admin("instance checkers", EXP, "cam1", "--check-web",
            "https://lab.example.org/health")
    rows = d.db_query("SELECT checker_type, target, timeout FROM"
                      " ExperimentInstanceChecker")
    assert rows == [["web", "https://lab.example.org/health", 10.0]]
    r = d.admin("instance checkers", EXP, "cam1", "--clear")
    assert r.stdout == "instance cam1 of %s has no health checks now\n" % EXP
    assert d.db_query("SELECT COUNT(*) FROM ExperimentInstanceChecker") == \
        [[0]]

    # removing an instance removes its checkers
    d.admin("instance checkers", EXP, "cam1", "--check-host", "10.0.0.9:22")
    d.admin("instance remove", EXP, "cam1")
    assert d.db_query("SELECT COUNT(*) FROM ExperimentInstanceChecker") == \
        [[0]]


@pytest.mark.parametrize("args,message", [
    (["instance checkers", EXP, "exp1", "--check-host", "10.0.0.9"],
     "ERROR: the host check '10.0.0.9' must look like HOST:PORT "
     "(192.0.2.7:80, [2001:db8::7]:80)"),
    (["instance checkers", EXP, "exp1", "--check-host", "10.0.0.9:70000"],
     "ERROR: the port of the host check '10.0.0.9:70000' must be 1 to 65535"),
    (["instance checkers", EXP, "exp1", "--check-webcam", "ftp://cam/x"],
     "ERROR: the webcam check 'ftp://cam/x' must start with http:// or "
     "https://"),
    (["instance checkers", EXP, "exp1", "--check-web", "http://a/",
      "--check-web", "http://a/"],
     "ERROR: the web check 'http://a/' is given twice"),
    (["instance checkers", EXP, "exp1", "--check-web", "http://a/",
      "--check-timeout", "0"],
     "ERROR: the timeout of a check must be more than 0 and at most 60 "
     "seconds"),
    (["instance checkers", EXP, "exp1", "--check-timeout", "5"],
     "ERROR: --check-timeout applies to the checks given with it: add "
     "--check-host, --check-webcam or --check-web"),
    (["instance checkers", EXP, "exp1", "--clear", "--check-host", "a:1"],
     "ERROR: give either --clear or checks, not both"),
    (["instance checkers", EXP, "exp9"],
     "ERROR: unknown instance 'exp9' of dummy@Dummy experiments"),
    (["instance checkers", EXP, "exp9", "--check-host", "a:1"],
     "ERROR: unknown instance 'exp9' of dummy@Dummy experiments"),
    (["instance add", EXP, "exp9", "--url", "http://127.0.0.1:9/",
      "--check-host", "a b:1"],
     "ERROR: the host check 'a b:1' has a character that is not allowed in "
     "a host name"),
])
def test_bad_checkers_change_nothing(deployment_factory, args, message):
    d = deployment_factory(copies=1)
    d.admin("instance checkers", EXP, "exp1", "--check-host", "10.0.0.9:1")

    def snapshot():
        return (d.db_query("SELECT * FROM ExperimentInstance ORDER BY id"),
                d.db_query("SELECT * FROM ExperimentInstanceChecker"
                           " ORDER BY id"))
    before = snapshot()
    r = d.admin(args[0], *args[1:], check=False)
    assert r.returncode == 1
    assert r.stderr.strip().splitlines()[-1] == message
    assert snapshot() == before


def test_older_database_gets_the_table(deployment_factory):
    """A data database made before checkers existed: any weblab-admin
    command adds the table, and `start` does before the cores read it."""
    d = deployment_factory(copies=1)
    d.db_exec("DROP TABLE ExperimentInstanceChecker")
    r = d.admin("start")
    assert "has the tables of this version now" in r.stdout
    assert d.db_query("SELECT COUNT(*) FROM ExperimentInstanceChecker") == \
        [[0]]
    d.db_exec("DROP TABLE ExperimentInstanceChecker")
    listed = json.loads(d.admin("instance list", "--json").stdout)
    assert listed[0]["checkers"] == []
