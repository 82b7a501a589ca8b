"""The seed's largest deployment, made the way a sysadmin would make it:
`weblab-admin create --db-engine=mysql --coordination-engine=redis` with
one and three cores behind the front, on a private mariadbd and
redis-server; the student cycle, any core answering, and the instance sync
through Redis."""
import os
import itertools

import pytest

import mariadb as mdb
from deploy import deployment_factory, have_module, have_experiment_server  # noqa: F401
from test_mysql import mariadb, full_cycle, uses, error_lines  # noqa: F401
from test_redis import Redis, REDIS_SERVER
from wlclient import Student

pytestmark = pytest.mark.skipif(
    not (have_module() and have_experiment_server() and mdb.available()
         and os.path.exists(REDIS_SERVER)),
    reason="mod_weblab.so, experiment_server, mariadb-server or"
           " redis-server missing")

_names = itertools.count(1)


@pytest.fixture
def redis(daemon_factory, tmp_path):
    r = Redis(daemon_factory, tmp_path)
    r.start()
    return r


def mysql_redis_deployment(factory, server, redis, cores):
    n = "%d_%d" % (os.getpid(), next(_names))
    extra = ["--not-interactive", "--mysql-admin-username", "root",
             "--db-engine", "mysql", "--db-host", "127.0.0.1",
             "--db-port", str(server.port), "--db-user", "wr" + n,
             "--db-passwd", "pw" + n, "--db-name", "wr_data_" + n,
             "--coordination-engine", "redis",
             "--coordination-redis-host", "127.0.0.1",
             "--coordination-redis-port", str(redis.port),
             "--coordination-redis-db", "3"]
    d = factory(cores=cores, copies=2, front=True, extra=extra)
    d.data_db = "wr_data_" + n
    conf = d.text("httpd/core1.conf")
    assert "WeblabCoordinationEngine redis" in conf
    assert 'WeblabCoordinationRedis "redis://127.0.0.1:%d/3"' % redis.port \
        in conf
    assert not (d.path / "db" / "WebLabCoordination.db").exists()
    d.start()
    return d


def test_sqlite_cores_still_refused_with_redis(deployment_factory, redis):
    from deploy import run_admin, make_parent
    r = run_admin("create", make_parent() / "x", "--cores", "2",
                  "--coordination-engine", "redis")
    assert r.returncode != 0
    assert r.stderr.strip() == ("ERROR: sqlite engine selected for general"
                                " database is incompatible with multiple"
                                " cores")


@pytest.mark.parametrize("cores", [1, 3])
def test_mysql_data_redis_coordination(mariadb, deployment_factory, redis,
                                       cores):
    d = mysql_redis_deployment(deployment_factory, mariadb, redis, cores)
    full_cycle(Student(d.base(0)))
    # state lives in Redis db 3, under the default prefix
    keys = redis.cli("-n", "3", "--scan", "--pattern", "weblab:*")
    assert keys
    if cores == 3:
        c1, c3 = Student(d.base(1)), Student(d.base(3))
        c1.login()
        c3.session_id = c1.session_id
        c3.reserve()
        assert c3.reservation_id.endswith(".route3")
        st = c1.wait_status("Reservation::confirmed", rid=c3.reservation_id)
        assert st["reservation_id"]["id"] == c3.reservation_id
        c1.reservation_id = c3.reservation_id
        assert c1.command("x") == {"commandstring": "Received command: x"}
        c1.finish()
    assert len(uses(mariadb, d)) == (2 if cores == 3 else 1)
    assert error_lines(d) == []
