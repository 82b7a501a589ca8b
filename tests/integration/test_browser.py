"""The student web client and the administration pages in a real browser:
Debian's chromium, headless, driven by playwright-core (npm) from
tests/browser/run.js, against a deployment made by weblab-admin.

run.js logs a student in, queues it behind another student (driven through
the JSON API), uses the dummy lab, watches the countdown, finishes; shows a
lost session explained; has the administrator add a user and a permission,
after which the new user sees the lab. One screenshot per page goes to
tests/browser/screenshots/ (gitignored).

Skipped, saying why, only when chromium is not installed and cannot be
(tools/install-deps installs it from tools/debian-packages.txt).
"""
import os
import shutil
import subprocess

import pytest

from deploy import (TOP_SRCDIR, deployment_factory, have_experiment_server,
                    have_module)

BROWSER_DIR = TOP_SRCDIR / "tests" / "browser"
CHROMIUM = "/usr/bin/chromium"

pytestmark = pytest.mark.skipif(
    not (have_module() and have_experiment_server()),
    reason="mod_weblab.so or experiment_server is not built yet")


def ensure_chromium():
    """The path of chromium, installing Debian's package when missing and
    we may (root); None when it cannot be had."""
    if os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "-qq",
                        "--no-install-recommends", "chromium"],
                       capture_output=True, env=env, timeout=900)
    return CHROMIUM if os.access(CHROMIUM, os.X_OK) else None


def ensure_node_modules(node):
    """npm ci in tests/browser when node_modules is missing (the lockfile
    pins playwright-core)."""
    if (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
        return
    npm = shutil.which("npm")
    assert npm, "npm is missing (it comes with Debian's nodejs/npm packages)"
    r = subprocess.run([npm, "ci", "--no-audit", "--no-fund"],
                       cwd=BROWSER_DIR, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, "npm ci failed:\n" + r.stdout + r.stderr


def test_client_and_admin_pages_in_chromium(deployment_factory):
    chromium = ensure_chromium()
    if not chromium:
        pytest.skip("Debian's chromium is not installed and could not be "
                    "installed (apt-get install chromium)")
    node = shutil.which("node")
    if not node:
        pytest.skip("node is not installed (Debian package nodejs)")
    ensure_node_modules(node)

    d = deployment_factory(front=True, extra=["--add-test-data"])
    d.start()
    shots = BROWSER_DIR / "screenshots"
    env = dict(os.environ, WEBLAB_URL=d.base(0), CHROMIUM=chromium,
               WEBLAB_SCREENSHOTS=str(shots))
    r = subprocess.run([node, str(BROWSER_DIR / "run.js")], cwd=BROWSER_DIR,
                       env=env, capture_output=True, text=True, timeout=600)
    print(r.stdout)
    print(r.stderr)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert r.stdout.rstrip().endswith(" 0 failed")
    for name in ("01-login", "05-queue", "06-confirmed", "08-finished",
                 "21-admin-users", "27-admin-live"):
        assert (shots / (name + ".png")).stat().st_size > 1000, name
