"""Health and failover (spec 3.6, beyond the original): a lab that dies
under a student sends the student to another instance, the dead instance
leaves service and rejoins by itself, the uses log keeps everything, and
server-status shows each instance's state."""
import os
import signal
import time
import urllib.request

import pytest

from deploy import deployment_factory, have_module, have_experiment_server  # noqa: F401
from test_api import error_lines
from wlclient import Student, WebLabError

pytestmark = pytest.mark.skipif(
    not (have_module() and have_experiment_server()),
    reason="mod_weblab.so or experiment_server not built")


def lab_of(d, s):
    """(name, pid, port) of the experiment server serving s."""
    uuid = s.reservation_id.split(";")[0]
    url = d.db_query("SELECT coord_address FROM UserUsedExperiment WHERE"
                     " reservation_id = ?", [uuid])[0][0]
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    for p in d.status()["processes"]:
        if p["kind"] == "experiment_server" and p["port"] == port:
            return p["name"], p["pid"], port
    raise AssertionError("no experiment server on %d" % port)


def server_status(d):
    with urllib.request.urlopen(d.base(1) + "/server-status?auto") as r:
        return r.read().decode()


def test_killed_lab_requeues_the_student_on_another_instance(
        deployment_factory):
    d = deployment_factory(copies=2)
    d.start()
    s = Student(d.base(1))
    s.login()
    s.reserve()
    s.wait_status("Reservation::confirmed")
    assert s.command("before")["commandstring"] == "Received command: before"
    name, pid, port = lab_of(d, s)
    assert "WeblabInstancesWorking: 2" in server_status(d)
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(WebLabError) as e:
        s.command("during")
    assert e.value.code == "JSON:Server.UserProcessing"
    assert "back at the head of the queue" in e.value.message
    st = s.wait_status("Reservation::confirmed", timeout=15)
    assert st["reservation_id"]["id"] == s.reservation_id
    assert s.command("after")["commandstring"] == "Received command: after"
    # the dead one is out of service with its error, the other works
    assert "WeblabInstancesWorking: 1" in server_status(d)
    inst = d.status()["instances"]          # weblab-admin status --json
    assert sorted(i["working"] for i in inst) == [False, True]
    assert [i for i in inst if not i["working"]][0]["error"]
    assert [i["held_by"] for i in inst if i["working"]] == ["admin"]
    rows = d.db_query("SELECT name, working, error FROM ResourceInstance"
                      " ORDER BY name", db="WebLabCoordination")
    assert sorted(r[1] for r in rows) == [0, 1]
    assert [r for r in rows if r[1] == 0][0][2]
    # nothing lost in the uses log: one use, every command in order
    uuid = s.reservation_id.split(";")[0]
    use = d.db_query("SELECT id FROM UserUsedExperiment WHERE"
                     " reservation_id = ?", [uuid])
    assert len(use) == 1
    cmds = [c[0] for c in d.db_query(
        "SELECT command FROM UserCommand WHERE experiment_use_id = ?"
        " ORDER BY id", [use[0][0]])]
    assert cmds == ["@@@initial::request@@@", "@@@initial::response@@@",
                    "before", "during", "@@@lab failed@@@", "after"]
    s.finish()
    s.wait_status("Reservation::post_reservation")
    # bring the lab back: it rejoins by itself (re-tested every few seconds)
    d.admin("restart")
    deadline = time.monotonic() + 30
    while "WeblabInstancesWorking: 2" not in server_status(d):
        assert time.monotonic() < deadline, server_status(d)
        time.sleep(0.5)
    assert error_lines(d) == []


def test_health_check_takes_a_dead_idle_lab_out_of_service(
        deployment_factory):
    d = deployment_factory(copies=2)
    conf = d.path / "httpd" / "core1.conf"
    d.db_exec("SELECT 1")
    import subprocess
    subprocess.run(["/usr/bin/python3", "-c",
                    "import sys; p = sys.argv[1]; t = open(p).read();"
                    " open(p, 'w').write(t + '\\nWeblabCheckInterval 1\\n')",
                    str(conf)], check=True, user=d.owner()[0],
                   group=d.owner()[1], extra_groups=[])
    d.start()
    exp = [p for p in d.status()["processes"]
           if p["kind"] == "experiment_server"]
    os.kill(exp[0]["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 15
    while "WeblabInstancesWorking: 1" not in server_status(d):
        assert time.monotonic() < deadline, server_status(d)
        time.sleep(0.3)
    # students are only given the working one
    s = Student(d.base(1))
    s.login()
    s.reserve()
    s.wait_status("Reservation::confirmed")
    assert s.command("ok")["commandstring"] == "Received command: ok"
