"""Coordination on Redis, end to end: a private redis-server on a loopback
port, a weblab-admin deployment whose core is switched to
`WeblabCoordinationEngine redis`, real apache2 and experiment servers.
The full student cycle; 300 students pressing Reserve at once on 3
instances, every one served once and no lab ever used by two at a time
(from the uses log); redis-server killed and restarted mid-run: clear
temporary errors, then service resumes by itself with nothing lost."""
import datetime
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from labviews import verbose_labs, assert_one_holder_at_a_time

from conftest import find_free_port
from deploy import deployment_factory, have_module, have_experiment_server  # noqa: F401
from test_api import error_lines
from wlclient import Student, WebLabError

REDIS_SERVER = shutil.which("redis-server") or "/usr/sbin/redis-server"
REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"

pytestmark = [
    pytest.mark.skipif(not (have_module() and have_experiment_server()),
                       reason="mod_weblab.so or experiment_server not built"),
    pytest.mark.skipif(not Path(REDIS_SERVER).exists(),
                       reason="redis-server not installed"),
]

PREFIX = "wltest-it:"


class Redis:
    """A private redis-server (AOF, every write on disk) that a test may
    kill and start again on the same port and data."""

    def __init__(self, daemon_factory, tmp_path):
        self.port = find_free_port()
        self.dir = tmp_path / "redis"
        self.dir.mkdir()
        self.factory = daemon_factory
        self.argv = [REDIS_SERVER, "--port", str(self.port), "--bind",
                     "127.0.0.1", "--dir", str(self.dir), "--save", "",
                     "--appendonly", "yes", "--appendfsync", "always",
                     "--daemonize", "no"]
        self.daemon = None

    def start(self):
        self.daemon = self.factory(self.argv, self.port, name="redis")
        for _ in range(100):            # answering PING, not LOADING
            if self.cli("PING") == "PONG":
                return
            time.sleep(0.05)
        raise AssertionError("redis-server does not answer")

    def kill(self):
        self.daemon.stop(sig=9)

    def cli(self, *args):
        r = subprocess.run([REDIS_CLI, "-p", str(self.port)] + list(args),
                           capture_output=True, text=True, timeout=10)
        return r.stdout.strip()

    def target(self):
        return "redis://127.0.0.1:%d/0?prefix=%s" % (self.port, PREFIX)


@pytest.fixture
def redis(daemon_factory, tmp_path):
    r = Redis(daemon_factory, tmp_path)
    r.start()
    return r


def use_redis(d, redis):
    """Switch the deployment's core to the Redis backend (before start)."""
    conf = d.path / "httpd" / "core1.conf"
    text = conf.read_text()
    text, n = re.subn(r"^WeblabCoordinationEngine .*$",
                      "WeblabCoordinationEngine redis", text, flags=re.M)
    assert n == 1
    text, n = re.subn(r"^WeblabCoordinationDatabase .*$",
                      'WeblabCoordinationRedis "%s"' % redis.target(), text,
                      flags=re.M)
    assert n == 1
    conf.write_text(text)


@pytest.fixture
def redis_demo(deployment_factory, redis):
    """A started deployment (front + 1 core) coordinated by Redis; its
    error logs must stay clean."""
    made = []

    def make(allowed=(), **kwargs):
        kwargs.setdefault("front", True)
        d = deployment_factory(**kwargs)
        use_redis(d, redis)
        verbose_labs(d)
        d.start()
        made.append((d, allowed))
        return d

    yield make
    for d, allowed in made:
        assert [line for line in error_lines(d)
                if not any(a in line for a in allowed)] == []


def coordination_rows(d):
    return d.db_query("SELECT (SELECT COUNT(*) FROM WebSession),"
                      " (SELECT COUNT(*) FROM Reservation)",
                      db="WebLabCoordination")[0]


def test_student_cycle_on_redis(redis_demo, redis):
    d = redis_demo()
    s = Student(d.base(0))
    s.login()
    assert s.call("check_user_session") is True
    assert len(s.call("list_experiments")) == 1
    r = s.reserve()
    assert r["status"] in ("Reservation::waiting_confirmation",
                           "Reservation::confirmed")
    st = s.wait_status("Reservation::confirmed")
    assert 190 < st["time"] <= 200
    assert s.command("ChangeSwitch on 0") == {
        "commandstring": "Received command: ChangeSwitch on 0"}
    assert s.send_file("cHJvZ3JhbQ==", "program")["commandstring"] \
        .startswith("Received file with len: 12")
    assert s.finish() == {}
    st = s.wait_status("Reservation::post_reservation")
    if not st["finished"]:
        time.sleep(0.5)
        st = s.status()
    assert st["finished"] is True and st["end_data"] == "null"
    # state lives in Redis, not in the SQLite coordination file
    assert int(redis.cli("EXISTS", PREFIX + "s:" + s.session_id)) == 1
    assert coordination_rows(d) == [0, 0]
    assert s.logout() == {}
    assert int(redis.cli("EXISTS", PREFIX + "s:" + s.session_id)) == 0
    with pytest.raises(WebLabError) as e:
        s.call("check_user_session")
    assert e.value.code == "JSON:Client.SessionNotFound"
    uuid = s.reservation_id.split(";")[0]
    uses = d.db_query("SELECT end_date, finish_reason FROM"
                      " UserUsedExperiment WHERE reservation_id = ?", [uuid])
    assert len(uses) == 1 and uses[0][0] is not None and uses[0][1] == 0


def run_threads(n, fn, width=None):
    """fn(i) for i < n, one thread each; at most width at a time."""
    errors = []
    gate = threading.Semaphore(width or n)

    def wrap(i):
        try:
            with gate:
                fn(i)
        except Exception as exc:            # reported below
            errors.append("student %d: %r" % (i, exc))

    threads = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    assert errors == [], errors[:5]


def parse_date(s):
    return datetime.datetime.fromisoformat(s)


def test_300_students_at_once_no_slot_twice(redis_demo):
    n = 300
    # AH00484, AH10159, AH00286: the generated front and core have fewer
    # workers than 300 students have connections; httpd says so and queues
    # the rest (sizing, not a failure: every request is still answered, as
    # checked below)
    d = redis_demo(copies=3, allowed=("AH00484", "AH10159", "AH00286"))
    students = [Student(d.base(0)) for _ in range(n)]
    # logging in is not what is measured: a few at a time (bcrypt)
    run_threads(n, lambda i: students[i].login(), width=8)

    go = threading.Barrier(n)

    def cycle(i):
        s = students[i]
        go.wait()
        st = s.reserve()
        deadline = time.monotonic() + 400
        position = n
        while True:
            if st["status"] == "Reservation::confirmed":
                break
            assert st["status"] in ("Reservation::waiting",
                                    "Reservation::waiting_confirmation"), st
            if st["status"] == "Reservation::waiting":
                # FIFO at one priority: a place in the queue only improves
                assert 0 <= st["position"] <= position, (position, st)
                position = st["position"]
            assert time.monotonic() < deadline, "never confirmed"
            time.sleep(0.5 if st["status"] == "Reservation::waiting"
                       else 0.05)
            st = s.status()
        assert s.command("student %d" % i)["commandstring"] == \
            "Received command: student %d" % i
        assert s.finish() == {}
        st = s.wait_status("Reservation::post_reservation", timeout=60,
                           every=0.2)

    run_threads(n, cycle)
    # every student served exactly once
    uses = d.db_query("SELECT reservation_id, coord_address, start_date,"
                      " end_date FROM UserUsedExperiment")
    ids = {s.reservation_id.split(";")[0] for s in students}
    assert len(ids) == n
    assert sorted(u[0] for u in uses) == sorted(ids)
    assert all(u[3] is not None for u in uses)
    # a lab never has two users at once
    by_lab = {}
    for _, lab, start, end in uses:
        by_lab.setdefault(lab, []).append((parse_date(start),
                                           parse_date(end)))
    assert len(by_lab) == 3
    for lab, spans in by_lab.items():
        spans.sort()
        for (s1, e1), (s2, e2) in zip(spans, spans[1:]):
            assert e1 <= s2, "%s used by two: %s-%s and %s-%s" % (
                lab, s1, e1, s2, e2)
    # and from the experiment servers' own view
    d.stop()
    assert_one_holder_at_a_time(d, 3, n)


def test_redis_restart_mid_run(redis_demo, redis):
    d = redis_demo(copies=2)
    a = Student(d.base(0))
    a.login()
    a.reserve()
    a.wait_status("Reservation::confirmed")
    assert a.command("before")["commandstring"] == "Received command: before"

    redis.kill()
    for call in (lambda: a.status(), lambda: a.command("during"),
                 lambda: Student(d.base(0)).login()):
        with pytest.raises(WebLabError) as e:
            call()
        assert e.value.code == "JSON:Server.WebLab"
        assert "Temporary server error (coordination)" in e.value.message
    redis.start()

    # back by itself: nothing restarted on our side, nothing lost
    assert a.status()["status"] == "Reservation::confirmed"
    assert a.command("after")["commandstring"] == "Received command: after"
    b = Student(d.base(0))
    b.login()
    b.reserve()
    b.wait_status("Reservation::confirmed")
    a.finish()
    b.finish()
    a.wait_status("Reservation::post_reservation")
    b.wait_status("Reservation::post_reservation")
    uses = d.db_query("SELECT reservation_id FROM UserUsedExperiment")
    assert len(uses) == 2
    cmds = [c[0] for c in d.db_query(
        "SELECT command FROM UserCommand WHERE command IN"
        " ('before', 'during', 'after') ORDER BY id")]
    assert cmds == ["before", "after"]


def apache(d, *args):
    """apache2 -f core1.conf ARGS as the deployment's owner."""
    uid, gid = d.owner()
    kwargs = {}
    if os.geteuid() == 0 and uid != 0:
        kwargs = {"user": uid, "group": gid, "extra_groups": []}
    return subprocess.run(["/usr/sbin/apache2", "-f",
                           str(d.path / "httpd" / "core1.conf")] + list(args),
                          capture_output=True, text=True, timeout=30,
                          **kwargs)


def test_redis_directives_are_checked(deployment_factory, redis):
    d = deployment_factory()
    use_redis(d, redis)
    conf = d.path / "httpd" / "core1.conf"
    good = conf.read_text()
    assert apache(d, "-t").returncode == 0
    # a malformed target fails the syntax check, password not quoted
    conf.write_text(good.replace(redis.target(),
                                 "redis://:s3cret@localhost:99999/0"))
    r = apache(d, "-t")
    assert r.returncode != 0
    assert "WeblabCoordinationRedis" in r.stderr and "port" in r.stderr
    assert "s3cret" not in r.stderr
    # engine redis with an SQL database: the start fails, saying why
    conf.write_text(re.sub(r'^WeblabCoordinationRedis .*$',
                           'WeblabCoordinationDatabase "sqlite:%s"'
                           % (d.path / "db" / "WebLabCoordination.db"),
                           good, flags=re.M))
    r = apache(d, "-DFOREGROUND")
    assert r.returncode != 0
    log = (d.path / "logs" / "core1_error.log").read_text()
    assert "WeblabCoordinationEngine redis: Redis target" in log + r.stderr
