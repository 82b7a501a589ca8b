"""Deployments made with weblab-admin, for the integration tests.

    from deploy import Deployment, deployment_factory   # the fixture

    def test_something(deployment_factory):
        d = deployment_factory(copies=1, front=True)   # weblab-admin create
        d.start()                                      # weblab-admin start
        d.post_json("/weblab/login/json/", "login", {...})
        rows = d.db_query('SELECT login FROM "User"')
        # stopped and removed at teardown

Deployments live in a fresh /tmp/weblab-test-XXXX (mode 0755), not in
pytest's tmp_path: when the tests run as root the deployment belongs to
www-data (weblab-admin gives it away and drops privileges), so every
directory above it must be searchable by www-data.

Database reads and writes go through a child process running as the
deployment's owner, so SQLite never leaves root-owned -wal/-shm files that
the cores could not open.
"""
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

import pytest

TOP_SRCDIR = Path(__file__).resolve().parents[2]
TOP_BUILDDIR = Path(os.environ.get("WEBLAB_BUILDDIR", TOP_SRCDIR))
WEBLAB_ADMIN = Path(os.environ.get(
    "WEBLAB_ADMIN", TOP_BUILDDIR / "tools" / "weblab-admin" / "weblab-admin"))
MODULE = TOP_BUILDDIR / "mod_weblab" / ".libs" / "mod_weblab.so"
EXPERIMENT_SERVER = TOP_BUILDDIR / "experiment_server" / "experiment_server"
PYTHON = "/usr/bin/python3"


def _config_h(name, default):
    try:
        text = (TOP_BUILDDIR / "config.h").read_text()
    except OSError:
        return default
    m = re.search(r'#define %s "([^"]*)"' % name, text)
    return m.group(1) if m else default


HTTPD_BIN = _config_h("WEBLAB_HTTPD_BIN", "/usr/sbin/apache2")


def have_module():
    return MODULE.exists()


def have_experiment_server():
    return EXPERIMENT_SERVER.exists()


# ---- ports ----

def _port_free(port):
    for host in ("127.0.0.1", "0.0.0.0"):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
            except OSError:
                return False
    return True


def free_port():
    """A TCP port nobody listens on right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_ports(n):
    """The first of n consecutive free ports (for --start-port)."""
    for _ in range(200):
        base = random.randrange(20000, 60000 - n)
        if all(_port_free(base + i) for i in range(n)):
            return base
    raise RuntimeError("no %d consecutive free ports" % n)


def port_answers(port, host="127.0.0.1"):
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


# ---- weblab-admin ----

def children_of(pid):
    """The pids of the processes whose parent is pid (from /proc)."""
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                kids.append(int(entry))
    return kids


def run_admin(*args, input=None, check=False, timeout=120):
    """weblab-admin ARGS; returns the CompletedProcess (text)."""
    r = subprocess.run([str(WEBLAB_ADMIN)] + [str(a) for a in args],
                       input=input, capture_output=True, text=True,
                       timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("weblab-admin %s failed (%d):\n%s%s"
                             % (" ".join(map(str, args)), r.returncode,
                                r.stdout, r.stderr))
    return r


def make_parent():
    """A fresh world-traversable directory under /tmp."""
    parent = tempfile.mkdtemp(prefix="weblab-test-", dir="/tmp")
    os.chmod(parent, 0o755)
    return Path(parent)


_DB_SCRIPT = r"""
import json, sqlite3, sys
path, sql, params, write = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4] == "1"
con = sqlite3.connect(path, timeout=10)
try:
    cur = con.execute(sql, params)
    rows = [list(r) for r in cur.fetchall()]
    if write:
        con.commit()
finally:
    con.close()
print(json.dumps(rows))
"""


class Deployment:
    """One weblab-admin deployment: DIR, its ports and helpers."""

    def __init__(self, path, start_port, cores, copies, front_port=None,
                 base_url=""):
        self.path = Path(path)
        self.start_port = start_port
        self.core_ports = [start_port + i for i in range(cores)]
        self.lab_ports = [start_port + cores + i for i in range(copies)]
        self.front_port = front_port
        self.base_url = base_url
        self.create_result = None

    @classmethod
    def create(cls, parent=None, name="deploy", cores=1, copies=1,
               front=False, base_url="", extra=(), check=True):
        """weblab-admin create with free ports; extra: more options."""
        parent = Path(parent) if parent else make_parent()
        start = free_ports(cores + copies)
        front_port = None
        args = ["create", parent / name, "--start-port", start,
                "--dummy-copies", copies, "--cores", cores]
        if front:
            front_port = free_port()
            while start <= front_port < start + cores + copies:
                front_port = free_port()
            args += ["--http-server-port", front_port]
        if base_url:
            args += ["--base-url", base_url]
        args += list(extra)
        d = cls(parent / name, start, cores, copies if "--no-lab" not in extra
                else 0, front_port, base_url)
        d.create_result = run_admin(*args, check=check)
        return d

    # commands
    def admin(self, command, *args, check=True, input=None):
        """weblab-admin COMMAND DIR ARGS ("user add" works as COMMAND)."""
        return run_admin(*(command.split() + [self.path] + list(args)),
                         check=check, input=input)

    def start(self, check=True):
        return self.admin("start", check=check)

    def stop(self, check=True):
        return self.admin("stop", check=check)

    def status(self):
        r = self.admin("status", "--json", check=False)
        return json.loads(r.stdout)

    # files
    def file(self, rel):
        return self.path / rel

    def text(self, rel):
        return (self.path / rel).read_text()

    def owner(self):
        st = os.stat(self.path)
        return st.st_uid, st.st_gid

    # databases
    def db_path(self, db="WebLab"):
        return self.path / "db" / ("%s.db" % db)

    def _db(self, sql, params, write, db):
        uid, gid = self.owner()
        kwargs = {}
        if os.geteuid() == 0 and uid != 0:
            kwargs = {"user": uid, "group": gid, "extra_groups": []}
        r = subprocess.run([PYTHON, "-c", _DB_SCRIPT, str(self.db_path(db)),
                            sql, json.dumps(list(params)),
                            "1" if write else "0"],
                           capture_output=True, text=True, check=False,
                           **kwargs)
        if r.returncode != 0:
            raise AssertionError("query failed: %s\n%s" % (sql, r.stderr))
        return json.loads(r.stdout)

    def db_query(self, sql, params=(), db="WebLab"):
        """Rows (lists) of a SELECT, read as the deployment's owner."""
        return self._db(sql, params, False, db)

    def db_exec(self, sql, params=(), db="WebLab"):
        """Run a writing statement as the deployment's owner."""
        return self._db(sql, params, True, db)

    # HTTP
    def base(self, core=1):
        """http://127.0.0.1:PORT of a core (core=N) or of the front (0)."""
        if core == 0:
            return "http://127.0.0.1:%d%s" % (self.front_port, self.base_url)
        return "http://127.0.0.1:%d" % self.core_ports[core - 1]

    def post_json(self, path, method, params=None, core=1, headers=None):
        """POST {"method","params"} to base(core)+path; (status, json,
        headers)."""
        body = json.dumps({"method": method, "params": params or {}})
        req = urllib.request.Request(self.base(core) + path,
                                     data=body.encode(), method="POST",
                                     headers=dict({"Content-Type":
                                                   "application/json"},
                                                  **(headers or {})))
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read()), resp.headers

    def remove(self):
        """Stop everything and delete the deployment's parent directory."""
        if (self.path / "weblab.conf").exists():
            self.admin("stop", "--quiet", check=False)
        shutil.rmtree(self.path.parent, ignore_errors=True)


@pytest.fixture
def deployment_factory():
    """deployment_factory(**Deployment.create kwargs) -> Deployment; every
    deployment is stopped and removed at teardown."""
    made, parents = [], []

    def make(**kwargs):
        if "parent" not in kwargs:
            kwargs["parent"] = make_parent()
            parents.append(kwargs["parent"])
        d = Deployment.create(**kwargs)
        made.append(d)
        return d

    yield make
    for d in made:
        d.remove()
    for parent in parents:              # also when create failed
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture
def tmp_parent():
    """A fresh /tmp/weblab-test-XXXX (0755), removed at teardown (after
    stopping any deployment left in it)."""
    parent = make_parent()
    yield parent
    for conf in parent.glob("*/weblab.conf"):
        run_admin("stop", conf.parent, "--quiet")
    shutil.rmtree(parent, ignore_errors=True)


__all__ = ["Deployment", "deployment_factory", "tmp_parent", "run_admin",
           "free_port", "free_ports", "port_answers", "make_parent",
           "have_module", "have_experiment_server", "HTTPD_BIN", "MODULE",
           "EXPERIMENT_SERVER", "WEBLAB_ADMIN", "TOP_SRCDIR"]

if __name__ == "__main__":
    sys.exit("import this module from the tests")
