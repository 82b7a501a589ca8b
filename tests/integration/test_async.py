"""Asynchronous commands and files for real (spec 1.5, 4.3): the request
id comes back at once, the lab call runs in the background of the core,
check_async_command_status says "running" until the lab answered, then
"ok" or "error" with the contents, once; the uses log gets the responses;
a request whose process died is reported lost instead of running forever.
Driven through the front against pylab.py, whose commands 'sleep N ...'
answer after N seconds and 'fail ...' fault."""
import os
import re
import signal
import time

import pytest

from deploy import deployment_factory, have_module, have_experiment_server  # noqa: F401
from deploy import children_of
from test_labs import Lab, EXP, lab_deployment, use  # noqa: F401
from test_api import add_student, error_lines
from test_redis import Redis, REDIS_SERVER, use_redis
from wlclient import Student, WebLabError

pytestmark = pytest.mark.skipif(
    not (have_module() and have_experiment_server()),
    reason="mod_weblab.so or experiment_server not built")

REQUEST_ID = re.compile(r"^[\w-]{16}$")
LOST = "The request was lost"


def rid(s):
    return {"reservation_id": {"id": s.reservation_id}}


def send_async(s, text):
    return s.call("send_async_command",
                  dict(rid(s), command={"commandstring": text}))


def check(s, *ids):
    return s.call("check_async_command_status",
                  dict(rid(s), request_identifiers=list(ids)))


def wait_done(s, req, timeout=15.0, every=0.1):
    """Check until req is no longer running; (answer, checks that saw it
    running)."""
    deadline = time.monotonic() + timeout
    running = 0
    while True:
        st = check(s, req)
        assert req in st, st
        if st[req][0] != "running":
            return st[req], running
        assert st[req] == ["running", {}], st     # contents None -> {}
        running += 1
        assert time.monotonic() < deadline, "still running"
        time.sleep(every)


@pytest.mark.parametrize("api", ["2", "2_concurrent"])
def test_slow_command_runs_then_ok_then_omitted(lab_deployment, api):
    d, (lab,) = lab_deployment("--api", api)
    s = Student(d.base(0))
    s.login()
    use(s)
    t0 = time.monotonic()
    req = send_async(s, "sleep 1.5 hello")
    assert time.monotonic() - t0 < 1.0          # answered before the lab
    assert REQUEST_ID.match(req)
    assert check(s, req) == {req: ["running", {}]}
    answer, running = wait_done(s, req)
    assert answer == ["ok", "pylab got: sleep 1.5 hello"]
    assert running >= 3                         # seen running for a while
    # reported once, then omitted like an unknown id
    assert check(s, req) == {}
    # the lab got it once, in the right session
    (sent,) = lab.calls("send_command_to_device")
    if api == "2_concurrent":
        assert isinstance(sent["args"][0], dict)
    # the uses log: the command, its response, the real duration
    rows = d.db_query("SELECT response, timestamp_before, timestamp_after"
                      " FROM UserCommand WHERE command = 'sleep 1.5 hello'")
    assert len(rows) == 1 and rows[0][0] == "pylab got: sleep 1.5 hello"
    assert rows[0][2] - rows[0][1] >= 1.4
    # nothing left behind once reported
    assert d.db_query("SELECT count(*) FROM AsyncCommandStatus") == [[0]]
    # the student's own commands still go through meanwhile
    assert s.command("sync")["commandstring"] == "pylab got: sync"


def test_async_commands_run_side_by_side(lab_deployment):
    d, (lab,) = lab_deployment()
    s = Student(d.base(0))
    s.login()
    use(s)
    t0 = time.monotonic()
    reqs = [send_async(s, "sleep 1.5 n%d" % i) for i in range(3)]
    assert len(set(reqs)) == 3
    deadline = time.monotonic() + 15
    done = {}
    while len(done) < 3:
        for req, (status, contents) in check(s, *reqs).items():
            if status != "running":
                done[req] = (status, contents)
        assert time.monotonic() < deadline, done
        time.sleep(0.1)
    assert sorted(c for _, c in done.values()) == \
        ["pylab got: sleep 1.5 n%d" % i for i in range(3)]
    assert time.monotonic() - t0 < 4.0          # not one after the other


def test_async_file(lab_deployment):
    d, (lab,) = lab_deployment()
    s = Student(d.base(0))
    s.login()
    use(s)
    req = s.call("send_async_file", dict(rid(s), file_content="QUJD",
                                         file_info="sleep 1 prog"))
    assert REQUEST_ID.match(req)
    assert check(s, req, "unknown-id") == {req: ["running", {}]}
    answer, _ = wait_done(s, req)
    assert answer == ["ok", "pylab file sleep 1 prog of 4 chars"]
    assert check(s, req) == {}
    (sent,) = lab.calls("send_file_to_device")
    assert sent["args"] == ["QUJD", "sleep 1 prog"]
    rows = d.db_query("SELECT file_info, file_hash, response,"
                      " timestamp_after FROM UserFile")
    assert rows[0][0] == "sleep 1 prog"
    # sha1("ABC")
    assert rows[0][1] == "{sha}3c01bdbb26f358bab27f267924aa2c9a03fcfdb8"
    assert rows[0][2] == "pylab file sleep 1 prog of 4 chars"
    assert rows[0][3] is not None


def test_a_failing_async_command_is_an_error_and_the_use_goes_on(
        lab_deployment):
    d, (lab,) = lab_deployment()
    s = Student(d.base(0))
    s.login()
    use(s)
    req = send_async(s, "fail please")
    answer, _ = wait_done(s, req)
    assert answer[0] == "error"
    assert answer[1].startswith("Couldn't send async command: ")
    assert "pylab refuses: fail please" in answer[1]
    assert check(s, req) == {}
    # as in the original, an async failure does not end the reservation
    assert s.status()["status"] == "Reservation::confirmed"
    assert s.command("after")["commandstring"] == "pylab got: after"
    # logged like a failed synchronous command: no response
    rows = d.db_query("SELECT response, timestamp_after FROM UserCommand"
                      " WHERE command = 'fail please'")
    assert rows[0][0] is None and rows[0][1] is not None


def test_an_async_command_that_times_out_is_an_error_only(lab_deployment):
    """Bounded by WeblabLabTimeout like send_command, but, as in the
    original, its failure is only the request's status: the reservation
    and the lab instance stay as they were."""
    d, (lab,) = lab_deployment(lab_timeout=2)
    s = Student(d.base(0))
    s.login()
    use(s)
    t0 = time.monotonic()
    req = send_async(s, "sleep 6 too slow")
    answer, _ = wait_done(s, req)
    assert time.monotonic() - t0 < 5           # the timeout, not the lab
    assert answer[0] == "error"
    assert answer[1].startswith("Couldn't send async command: "), answer
    assert s.status()["status"] == "Reservation::confirmed"
    rows = d.db_query("SELECT working FROM ResourceInstance WHERE name ="
                      " 'py1'", db="WebLabCoordination")
    assert rows == [[1]]
    assert d.db_query("SELECT count(*) FROM UserCommand WHERE command ="
                      " '@@@lab failed@@@'") == [[0]]


def test_bad_async_input_gets_the_protocols_errors(lab_deployment):
    d, (lab,) = lab_deployment()
    add_student(d, "bob")
    s, bob = Student(d.base(0)), Student(d.base(0))
    s.login()
    bob.login("bob", "secret")
    use(s)
    bob.reserve("pylab", "Python experiments")  # waits behind s

    def error(student, method, params):
        with pytest.raises(WebLabError) as e:
            student.call(method, params)
        return e.value

    for bad in ("abc", None, [1], [["x"]], {"a": 1}):
        e = error(s, "check_async_command_status",
                  dict(rid(s), request_identifiers=bad))
        assert e.code == "JSON:Server.WebLab"
        assert "request_identifiers" in e.message
    e = error(s, "check_async_command_status", rid(s))
    assert e.code == "JSON:Server.WebLab"
    for bad in ({}, {"commandstring": 5}, None):
        e = error(s, "send_async_command", dict(rid(s), command=bad))
        assert e.code == "JSON:Server.WebLab"
    e = error(s, "send_async_file", dict(rid(s), file_info="x"))
    assert e.code == "JSON:Server.WebLab"
    # unknown reservation, and one that has no lab yet
    e = error(s, "send_async_command",
              {"reservation_id": {"id": "nope"},
               "command": {"commandstring": "x"}})
    assert e.code == "JSON:Client.SessionNotFound"
    assert bob.status()["status"] == "Reservation::waiting"
    e = error(bob, "send_async_command",
              dict(rid(bob), command={"commandstring": "x"}))
    assert e.code == "JSON:Client.NoCurrentReservation"
    e = error(bob, "check_async_command_status",
              dict(rid(bob), request_identifiers=[]))
    assert e.code == "JSON:Client.NoCurrentReservation"
    # unknown ids are omitted; nothing was sent for the refused requests
    assert check(s, "unknown", "x" * 100, "") == {}
    assert lab.calls("send_command_to_device") == []
    # a request is only seen through its own reservation's use
    req = send_async(s, "mine")
    s.finish()
    bob.wait_status("Reservation::confirmed")
    assert check(bob, req) == {}


def test_a_full_worker_refuses_at_once(lab_deployment):
    """One child (4 threads, 64 waiting places): with every place taken the
    next request is refused at once with a clear error and leaves nothing
    behind; the accepted ones all complete, and then there is room again."""
    d, (lab,) = lab_deployment()
    d.stop()
    conf = d.path / "httpd" / "core1.conf"
    text = conf.read_text()
    threads = re.search(r"^ThreadsPerChild (\d+)", text, re.M).group(1)
    for name, value in (("StartServers", "1"), ("ServerLimit", "1"),
                        ("MaxRequestWorkers", threads),
                        ("MaxSpareThreads", threads)):
        text, n = re.subn(r"^%s .*$" % name, "%s %s" % (name, value), text,
                          flags=re.M)
        assert n == 1, name
    conf.write_text(text)
    d.start()
    s = Student(d.base(1))
    s.login()
    use(s)
    busy = [send_async(s, "sleep 3 busy%d" % i) for i in range(4)]
    deadline = time.monotonic() + 5
    while len(lab.calls("send_command_to_device")) < 4:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    waiting = [send_async(s, "quick%d" % i) for i in range(64)]
    t0 = time.monotonic()
    with pytest.raises(WebLabError) as e:
        send_async(s, "one too many")
    assert time.monotonic() - t0 < 1
    assert e.value.code == "JSON:Server.UserProcessing"
    assert "Too many asynchronous commands" in e.value.message
    done = {}
    deadline = time.monotonic() + 30
    while len(done) < 68:
        for req, (status, contents) in check(s, *(busy + waiting)).items():
            if status != "running":
                done[req] = (status, contents)
        assert time.monotonic() < deadline, len(done)
        time.sleep(0.2)
    assert {st for st, _ in done.values()} == {"ok"}
    assert done[waiting[-1]][1] == "pylab got: quick63"
    assert REQUEST_ID.match(send_async(s, "room again"))
    assert d.db_query("SELECT count(*) FROM UserCommand WHERE command ="
                      " 'one too many'") == [[0]]
    assert "one too many" not in [c["args"][0] for c in
                                  lab.calls("send_command_to_device")]


def test_a_request_whose_child_died_is_reported_lost(lab_deployment):
    """The child running the lab call is killed (kill -9): nobody will
    ever record the answer. The request stays "running" until its deadline
    (two lab timeouts and some slack, here 2 * (1 + 2) + 5 s and 1 s of
    queue grace), then it is an error that says so, once."""
    d, (lab,) = lab_deployment(lab_timeout=2)
    s = Student(d.base(1))      # the core itself: no proxy errors meanwhile
    s.login()
    use(s)
    t0 = time.monotonic()
    req = send_async(s, "sleep 30 lost")
    deadline = time.monotonic() + 5
    while not lab.calls("send_command_to_device"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    parent = int((d.path / "run" / "core1.pid").read_text())
    kids = children_of(parent)
    assert kids
    for pid in kids:
        os.kill(pid, signal.SIGKILL)
    answer, running = None, 0
    deadline = time.monotonic() + 30
    while answer is None:
        try:
            st = check(s, req)
        except Exception:           # the core is starting new children
            st = {req: ["running", {}]}
        if st[req][0] == "running":
            running += 1
        else:
            answer = st[req]
        assert time.monotonic() < deadline
        time.sleep(0.5)
    assert answer[0] == "error" and LOST in answer[1], answer
    assert time.monotonic() - t0 >= 11        # not before its deadline
    assert running >= 3
    assert check(s, req) == {}
    rows = d.db_query("SELECT response, timestamp_after FROM UserCommand"
                      " WHERE command = 'sleep 30 lost'")
    assert rows == [[None, None]]               # no answer ever came
    assert lab.calls("answered") == []


def test_a_graceful_restart_keeps_the_answer(lab_deployment):
    """A graceful restart lets the old child finish its lab calls, and the
    answer is recorded for whichever child serves the check."""
    d, (lab,) = lab_deployment()
    s = Student(d.base(0))
    s.login()
    use(s)
    req = send_async(s, "sleep 2 across a restart")
    deadline = time.monotonic() + 5
    while not lab.calls("send_command_to_device"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    parent = int((d.path / "run" / "core1.pid").read_text())
    old = set(children_of(parent))
    os.kill(parent, signal.SIGUSR1)             # httpd -k graceful
    deadline = time.monotonic() + 15
    while set(children_of(parent)) & old:
        assert time.monotonic() < deadline, "old children still there"
        time.sleep(0.2)
    answer, _ = wait_done(s, req)
    assert answer == ["ok", "pylab got: sleep 2 across a restart"]


@pytest.mark.skipif(not os.path.exists(REDIS_SERVER),
                    reason="redis-server not installed")
def test_async_on_redis_coordination(deployment_factory, daemon_factory,
                                     tmp_path):
    """The worker threads read the reservation through the Redis backend's
    own connection pool, outside any request."""
    redis = Redis(daemon_factory, tmp_path)
    redis.start()
    d = deployment_factory(front=True)
    use_redis(d, redis)
    d.admin("experiment add", EXP)
    d.admin("grant", "--group", "Administrators", EXP, "--time", "300")
    lab = Lab(d)
    try:
        d.admin("instance add", EXP, "py1", "--url",
                "http://127.0.0.1:%d/" % lab.port, "--resource",
                "py1@py_queue")
        d.start()
        s = Student(d.base(0))
        s.login()
        use(s)
        req = send_async(s, "sleep 1 on redis")
        assert check(s, req) == {req: ["running", {}]}
        answer, _ = wait_done(s, req)
        assert answer == ["ok", "pylab got: sleep 1 on redis"]
        assert check(s, req) == {}
    finally:
        lab.stop()
    assert error_lines(d) == []
