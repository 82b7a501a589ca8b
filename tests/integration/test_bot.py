"""weblab-bot against a real deployment made by weblab-admin: what the bot
counts must be what the server logged (uses, commands, files), a forced
error must be counted as an error of the method that got it, and a wrong
--url must give one clear line and a non-zero exit. No timing is asserted:
timings are the benchmark's business (bench/run)."""
import csv
import json
import subprocess
import time

import pytest

from deploy import (deployment_factory, free_port, have_module,  # noqa: F401
                    have_experiment_server, TOP_BUILDDIR)

BOT = TOP_BUILDDIR / "tools" / "weblab-bot" / "weblab-bot"

pytestmark = pytest.mark.skipif(
    not (have_module() and have_experiment_server() and BOT.exists()),
    reason="mod_weblab.so, experiment_server or weblab-bot not built")

METHODS = ["login", "get_user_information", "list_experiments",
           "reserve_experiment", "get_reservation_status", "send_file",
           "send_command", "finished_experiment", "logout"]


def run_bot(*args, timeout=120):
    r = subprocess.run([str(BOT)] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=timeout)
    return r


def ok(report, method):
    """Successful calls of method over every scenario of a --json report."""
    return sum(s["methods"].get(method, {}).get("ok", 0)
               for s in report["scenarios"])


def errors(report, method):
    return sum(s["methods"].get(method, {}).get("errors", 0)
               for s in report["scenarios"])


def uses_log(d):
    """(uses, "ChangeSwitch on 0" commands, files) in the data database."""
    (uses,), = d.db_query("SELECT COUNT(*) FROM UserUsedExperiment")
    (cmds,), = d.db_query("SELECT COUNT(*) FROM UserCommand "
                          "WHERE command = 'ChangeSwitch on 0'")
    (files,), = d.db_query("SELECT COUNT(*) FROM UserFile")
    return uses, cmds, files


def wait_uses_log(d, expected, timeout=15.0):
    """The uses log once it equals expected (a use's end is written when
    its dispose completes), else its last value."""
    deadline = time.monotonic() + timeout
    while True:
        got = uses_log(d)
        if got == expected or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


@pytest.fixture
def started(deployment_factory):
    def make(**kwargs):
        d = deployment_factory(**kwargs)
        d.start()
        return d
    return make


def add_students(d, n, prefix="student", password="secret"):
    for i in range(1, n + 1):
        d.admin("user add", "%s%d" % (prefix, i), "--password", password,
                "--group", "Administrators")


def test_counts_match_the_uses_log(started, tmp_path):
    d = started(copies=2)
    add_students(d, 3)
    out_json, out_csv = tmp_path / "bot.json", tmp_path / "bot.csv"
    r = run_bot("--url", d.base(1), "--users", "1,3", "--pacing", "none",
                "--user-prefix", "student", "--accounts", 3,
                "--password", "secret", "--json", out_json, "--csv", out_csv,
                "--label", "test")
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(out_json.read_text())
    assert [s["users"] for s in report["scenarios"]] == [1, 3]
    for m in METHODS:
        assert errors(report, m) == 0, (m, r.stdout)
    for m in ("login", "reserve_experiment", "send_file", "send_command",
              "finished_experiment", "logout"):
        assert ok(report, m) == 4, (m, r.stdout)
    assert ok(report, "cycle") == 4
    assert sum(s["cycles_ok"] for s in report["scenarios"]) == 4
    assert ok(report, "get_reservation_status") >= 0
    assert report["scenarios"][1]["routes"] == {"route1": 3}

    # what the server logged is what the bot counted as successful
    assert wait_uses_log(d, (4, 4, 4)) == (ok(report, "finished_experiment"),
                                           ok(report, "send_command"),
                                           ok(report, "send_file"))
    per_user = dict(d.db_query(
        'SELECT u.login, COUNT(*) FROM UserUsedExperiment e '
        'JOIN "User" u ON u.id = e.user_id GROUP BY u.login'))
    assert per_user == {"student1": 2, "student2": 1, "student3": 1}

    # the table names every method; the CSV has one row per count and method
    for m in METHODS + ["cycle"]:
        assert m in r.stdout
    with open(out_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    assert {(int(row["users"]), row["method"]) for row in rows} == \
        {(n, m) for n in (1, 3) for m in METHODS + ["cycle"]}
    for row in rows:
        assert row["label"] == "test" and int(row["errors"]) == 0
        assert 0 <= float(row["min_s"]) <= float(row["mean_s"]) \
            <= float(row["max_s"])
        assert float(row["p50_s"]) <= float(row["p95_s"]) \
            <= float(row["p99_s"]) <= float(row["max_s"])
    send = [row for row in rows if row["method"] == "send_command"]
    assert sorted(int(row["count"]) for row in send) == [1, 3]


def test_at_once_reserves_every_student_once(started, tmp_path):
    d = started(copies=2)
    out = tmp_path / "bot.json"
    r = run_bot("--url", d.base(1), "--users", "4", "--at-once",
                "--pacing", "none", "--json", out, "--plot-dir",
                tmp_path / "plots")
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(out.read_text())
    assert report["options"]["at_once"] is True
    assert ok(report, "reserve_experiment") == 4
    assert ok(report, "send_command") == 4
    assert "timed from the write of its own request" in r.stdout
    assert wait_uses_log(d, (4, 4, 4)) == (4, 4, 4)
    png = tmp_path / "plots" / "reserve_experiment.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "plots" / "plots.gp").exists()


def test_at_once_then_finish_cancels(started, tmp_path):
    d = started(copies=1)
    out = tmp_path / "bot.json"
    r = run_bot("--url", d.base(1), "--users", "3", "--at-once",
                "--after-reserve", "finish", "--json", out)
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(out.read_text())
    assert ok(report, "reserve_experiment") == 3
    assert ok(report, "finished_experiment") == 3
    assert ok(report, "send_command") == 0
    assert ok(report, "logout") == 3
    assert uses_log(d)[1:] == (0, 0)


def test_wrong_password_is_a_login_error(started, tmp_path):
    d = started(copies=1)
    out = tmp_path / "bot.json"
    r = run_bot("--url", d.base(1), "--users", "2", "--password", "wrong",
                "--json", out, "--csv", tmp_path / "bot.csv")
    assert r.returncode == 1, r.stdout + r.stderr
    report = json.loads(out.read_text())
    login = report["scenarios"][0]["methods"]["login"]
    assert login["count"] == 2 and login["errors"] == 2 and login["ok"] == 0
    assert login["error_kinds"] == {"JSON:Client.InvalidCredentials": 2}
    assert "reserve_experiment" not in report["scenarios"][0]["methods"]
    assert report["scenarios"][0]["cycles_failed"] == 2
    assert "JSON:Client.InvalidCredentials x2" in r.stdout
    assert uses_log(d) == (0, 0, 0)


def test_experiment_not_allowed_is_a_list_experiments_error(started,
                                                            tmp_path):
    d = started(copies=1)
    d.admin("user add", "outsider", "--password", "secret")
    out = tmp_path / "bot.json"
    r = run_bot("--url", d.base(1), "--users", "1", "--user", "outsider",
                "--password", "secret", "--json", out)
    assert r.returncode == 1, r.stdout + r.stderr
    report = json.loads(out.read_text())
    m = report["scenarios"][0]["methods"]
    assert m["login"]["ok"] == 1 and m["get_user_information"]["ok"] == 1
    assert m["list_experiments"] == dict(
        m["list_experiments"], count=1, ok=0, errors=1,
        error_kinds={"dummy@Dummy experiments not listed": 1})
    assert "reserve_experiment" not in m
    assert report["scenarios"][0]["methods"]["cycle"]["error_kinds"] == \
        {"stopped at list_experiments": 1}
    assert uses_log(d) == (0, 0, 0)


def test_unreachable_url_is_a_clear_error(tmp_path):
    port = free_port()
    r = run_bot("--url", "http://127.0.0.1:%d" % port, "--users", "1",
                "--json", tmp_path / "bot.json", timeout=30)
    assert r.returncode == 3
    assert r.stderr.startswith("ERROR: cannot reach http://127.0.0.1:%d/"
                               % port), r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "bot.json").exists()


def test_not_a_weblab_server_is_a_clear_error(started):
    d = started(copies=1)
    # the core answers, but not at this prefix
    r = run_bot("--url", d.base(1) + "/nothing-here", "--users", "1")
    assert r.returncode == 3
    assert "does not answer like a WebLab-Deusto JSON API" in r.stderr


def test_remote_url_needs_allow_remote():
    r = run_bot("--url", "http://192.0.2.1:8000", "--users", "1")
    assert r.returncode == 2
    assert "not a loopback address" in r.stderr and "--allow-remote" in \
        r.stderr


def test_usage_errors_and_help():
    r = run_bot("--users", "0")
    assert r.returncode == 2 and r.stderr.startswith("ERROR: --users")
    r = run_bot("--pacing", "fast")
    assert r.returncode == 2
    r = run_bot("--help")
    assert r.returncode == 0
    for opt in ("--url", "--users", "--iterations", "--user-prefix",
                "--accounts", "--exp", "--cat", "--start-delay",
                "--step-delay", "--at-once", "--pacing", "--timeout",
                "--csv", "--json", "--plot-dir", "--progress", "--quiet",
                "--allow-remote", "--max-connections"):
        assert opt in r.stdout, opt
    assert max(len(line) for line in r.stdout.splitlines()) <= 80
