"""300 students pressing Reserve at once on the default deployment (SQLite,
SQL scheduling, one core, three dummy instances, through the front): every
student is served exactly once and no lab ever has two holders, checked
from the uses log and from the experiment servers' own logs."""
import hashlib
import threading
import time

import pytest

from deploy import deployment_factory, have_module, have_experiment_server  # noqa: F401
from labviews import verbose_labs, assert_one_holder_at_a_time
from test_api import error_lines
from test_mysql import student_run, NSTUDENTS, PASSWORD

pytestmark = pytest.mark.skipif(
    not (have_module() and have_experiment_server()),
    reason="mod_weblab.so or experiment_server not built")


def add_students(d, n):
    salt = "abcd"
    stored = salt + "{sha}" + hashlib.sha1(
        (salt + PASSWORD).encode()).hexdigest()
    values = ",".join("('s%03d', 'Student %03d', '', 4)" % (i, i)
                      for i in range(n))
    d.db_exec('INSERT INTO "User" (login, full_name, email, role_id)'
              " VALUES " + values)
    d.db_exec("INSERT INTO UserAuth (user_id, auth_id, configuration)"
              ' SELECT u.id, a.id, ? FROM "User" u, Auth a'
              " WHERE u.login LIKE 's___' AND a.name = 'WebLab DB'", [stored])
    d.db_exec("INSERT INTO UserIsMemberOf (user_id, group_id)"
              ' SELECT u.id, g.id FROM "User" u, "Group" g'
              " WHERE u.login LIKE 's___' AND g.name = 'Administrators'")


def test_300_students_at_once_on_sqlite(deployment_factory):
    d = deployment_factory(copies=3, front=True)
    verbose_labs(d)
    d.start()
    add_students(d, NSTUDENTS)
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
    assert len({r["rid"] for r in results}) == NSTUDENTS

    # the uses log: every student once, never two holders of one lab
    deadline = time.monotonic() + 30
    while True:
        rows = d.db_query(
            "SELECT e.reservation_id, e.coord_address, e.start_date,"
            ' e.end_date FROM UserUsedExperiment e JOIN "User" u'
            " ON u.id = e.user_id WHERE u.login LIKE 's___'")
        if (len(rows) == NSTUDENTS and all(r[3] for r in rows)) \
                or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert sorted(r[0] for r in rows) == sorted(r["rid"] for r in results)
    by_lab = {}
    for rid, lab, start, end in rows:
        by_lab.setdefault(lab, []).append((start, end, rid))
    assert len(by_lab) == 3
    for lab, spans in by_lab.items():
        spans.sort()
        for (s1, e1, r1), (s2, e2, r2) in zip(spans, spans[1:]):
            assert e1 <= s2, "%s held by %s and %s at once" % (lab, r1, r2)
    assert d.db_query("SELECT COUNT(*) FROM Reservation WHERE state NOT IN"
                      " ('done', 'cancelled')",
                      db="WebLabCoordination")[0][0] == 0

    # the experiment servers' own view: starts and disposes alternate
    # (read after a stop: their logs are flushed on exit)
    # where fewer workers than the 300 keep-alive clients are configured
    # (a machine with little RAM), httpd says it reached MaxRequestWorkers
    # and queues them: that is not a failure; any other error line is
    assert [ln for ln in error_lines(d)
            if "MaxRequestWorkers" not in ln] == []
    d.stop()
    assert_one_holder_at_a_time(d, 3, NSTUDENTS)
