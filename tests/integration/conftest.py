"""Shared fixtures for the integration tests (pytest).

Every test gets real processes on loopback: `free_port` finds a port,
`daemon_factory` starts a program, waits until its port accepts connections
and stops it at teardown by its PID (SIGTERM, then SIGKILL), so nothing is
left running whatever the test did.

Paths: the source tree is two levels up; the build tree is the same unless
WEBLAB_BUILDDIR says otherwise (out-of-tree builds).
"""
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

TOP_SRCDIR = Path(__file__).resolve().parents[2]
TOP_BUILDDIR = Path(os.environ.get("WEBLAB_BUILDDIR", TOP_SRCDIR))


def find_free_port(host="127.0.0.1"):
    """A TCP port nobody listens on right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_for_port(host, port, timeout=10.0, proc=None):
    """Wait until host:port accepts a connection. If proc exits first,
    fail with its exit status."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited with status %s before "
                               "listening on %s:%d" % (proc.returncode,
                                                       host, port))
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("nothing listening on %s:%d after %.1f s"
                       % (host, port, timeout))


class Daemon:
    """A program started for a test. Its stdout and stderr go to log_path."""

    def __init__(self, argv, host, port, log_path, env=None):
        self.argv = [str(a) for a in argv]
        self.host = host
        self.port = port
        self.log_path = Path(log_path)
        self.env = env
        self.proc = None

    def start(self, wait=True, timeout=10.0):
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log,
                                         stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL,
                                         env=self.env)
        if wait:
            wait_for_port(self.host, self.port, timeout, self.proc)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        if self.running():
            os.kill(self.proc.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Stop it by PID; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        return self.proc.returncode

    def log_text(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


@pytest.fixture
def free_port():
    return find_free_port()


@pytest.fixture
def daemon_factory(tmp_path):
    """start(argv, port, host="127.0.0.1", name="daemon", wait=True) -> Daemon.
    Everything started is stopped at teardown."""
    started = []

    def start(argv, port, host="127.0.0.1", name="daemon", wait=True,
              env=None):
        d = Daemon(argv, host, port, tmp_path / ("%s-%d.log" % (name, port)),
                   env=env)
        started.append(d)
        return d.start(wait=wait)

    yield start
    for d in started:
        d.stop()
