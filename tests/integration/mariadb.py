"""A private MariaDB server for the integration tests: its own datadir in
a fresh /tmp directory (world-traversable: the cores run as www-data),
a free loopback port, root without a password. Started once per session by
the `mariadb` fixture of test_mysql.py, stopped by its PID at the end;
restart() stops and starts it on the same port and datadir (fault tests).
"""
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

MARIADBD = shutil.which("mariadbd") or "/usr/sbin/mariadbd"
INSTALL_DB = shutil.which("mariadb-install-db")
CLIENT = shutil.which("mariadb") or shutil.which("mysql")


def available():
    return os.access(MARIADBD, os.X_OK) and INSTALL_DB and CLIENT


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MariaDB:
    def __init__(self):
        self.dir = Path(tempfile.mkdtemp(prefix="weblab-mariadb-",
                                         dir="/tmp"))
        os.chmod(self.dir, 0o755)
        self.port = _free_port()
        self.proc = None
        self.user = subprocess.run(["id", "-un"], capture_output=True,
                                   text=True).stdout.strip()
        r = subprocess.run([INSTALL_DB, "--no-defaults",
                            "--datadir=%s" % (self.dir / "data"),
                            "--user=%s" % self.user,
                            "--auth-root-authentication-method=normal",
                            "--skip-test-db"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError("mariadb-install-db failed:\n" + r.stdout
                               + r.stderr)

    def start(self, timeout=30):
        log = open(self.dir / "console.log", "ab")
        self.proc = subprocess.Popen(
            [MARIADBD, "--no-defaults", "--datadir=%s" % (self.dir / "data"),
             "--user=%s" % self.user, "--bind-address=127.0.0.1",
             "--port=%d" % self.port, "--socket=%s" % (self.dir / "sock"),
             "--pid-file=%s" % (self.dir / "mysqld.pid"),
             "--log-error=%s" % (self.dir / "error.log"), "--skip-log-bin",
             "--innodb-buffer-pool-size=128M",
             "--innodb-flush-log-at-trx-commit=2",
             "--max-connections=3000", "--max-prepared-stmt-count=500000"],
            stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("mariadbd exited: %s" % self.tail())
            try:
                self.query("SELECT 1")
                return
            except AssertionError:
                time.sleep(0.1)
        raise RuntimeError("mariadbd did not start: %s" % self.tail())

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """Stop the server by its PID (SIGKILL after timeout)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def restart(self, down_for=0.0):
        self.stop()
        time.sleep(down_for)
        self.start()

    def remove(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def tail(self):
        try:
            return (self.dir / "error.log").read_text()[-2000:]
        except OSError:
            return ""

    def query(self, sql, db=None):
        """Rows (lists of strings, None for NULL) of sql, run as root."""
        args = [CLIENT, "--no-defaults", "-h127.0.0.1", "-P%d" % self.port,
                "-uroot", "-N", "-B", "--raw", "-e", sql]
        if db:
            args.append(db)
        r = subprocess.run(args, capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            raise AssertionError("query failed: %s\n%s" % (sql, r.stderr))
        return [[None if v == "NULL" else v for v in line.split("\t")]
                for line in r.stdout.splitlines()]
