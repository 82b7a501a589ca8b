"""weblab-admin: create (validation, files, databases, message), the
administration commands checked in the database, and start/status/stop of
real processes (apache2 with mod_weblab, experiment_server).

Run with Debian's python: /usr/bin/python3 -m pytest -q tests/integration/test_admin.py
"""
import json
import os
import pwd
import re
import socket
import subprocess
import time
import warnings
from datetime import datetime, timedelta

import pytest

from deploy import (Deployment, EXPERIMENT_SERVER, HTTPD_BIN, MODULE,
                    TOP_SRCDIR, WEBLAB_ADMIN, deployment_factory, free_port,
                    free_ports, have_experiment_server, have_module,
                    port_answers, run_admin, tmp_parent)

pytestmark = pytest.mark.skipif(not WEBLAB_ADMIN.exists(),
                                reason="weblab-admin is not built (make)")

needs_module = pytest.mark.skipif(
    not have_module(), reason="mod_weblab.so is not built yet (%s)" % MODULE)
needs_servers = pytest.mark.skipif(
    not (have_module() and have_experiment_server()),
    reason="mod_weblab.so or experiment_server is not built yet")

SQLITE_MULTI = ("ERROR: sqlite engine selected for %s is incompatible with "
                "multiple cores")


def err_line(r):
    """The single stderr line of a failed command."""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


def crypt_verify(password, stored):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt
    except ImportError:
        pytest.skip("no crypt module to check bcrypt")
    return crypt.crypt(password, stored) == stored


# ---------------------------------------------------------------- validation

NO_MYSQL = ("ERROR: the MySQL database %s on 127.0.0.1 cannot be opened as "
            "weblab; give --mysql-admin-username and --mysql-admin-password "
            "to create it")


@pytest.mark.parametrize("args,message", [
    (["--cores", "4"], SQLITE_MULTI % "coordination, general database"),
    (["--cores", "2", "--coordination-db-engine", "mysql"],
     SQLITE_MULTI % "general database"),
    (["--cores", "2", "--db-engine", "mysql"], SQLITE_MULTI % "coordination"),
    (["--cores", "3", "--coordination-engine", "redis"],
     SQLITE_MULTI % "general database"),
    (["--cores", "0"], "ERROR: There must be at least one core server."),
    (["--cores", "-2"], "ERROR: There must be at least one core server."),
    (["--start-port", "0"], "ERROR: starting port number must be at least 1"),
    (["--start-port", "65535"],
     "ERROR: starting port number must be at least 1"),
    # MySQL (nothing listens on port 1): the original's -5, nothing made
    (["--db-engine", "mysql", "--db-host", "127.0.0.1", "--db-port", "1",
      "--not-interactive"], NO_MYSQL % "WebLab"),
    (["--cores", "4", "--coordination-db-engine=mysql", "--db-engine=mysql",
      "--db-host", "127.0.0.1", "--db-port", "1", "--coordination-db-host",
      "127.0.0.1", "--coordination-db-port", "1", "--not-interactive"],
     NO_MYSQL % "WebLab"),
    (["--coordination-engine", "memcached"],
     "ERROR: unknown --coordination-engine 'memcached' (redis or sql)"),
    (["--coordination-db-engine", "mysql", "--coordination-db-host",
      "127.0.0.1", "--coordination-db-port", "1", "--not-interactive"],
     NO_MYSQL % "WebLabCoordination"),
    (["--db-engine", "oracle"],
     "ERROR: unknown --db-engine 'oracle' (mysql or sqlite)"),
    (["--cores", "many"], "ERROR: --cores expects an integer, not 'many'"),
    (["--start-port", "65000", "--dummy-copies", "600"],
     "ERROR: --start-port 65000 leaves no room for 601 ports (cores and "
     "experiment servers)"),
    (["--admin-user", "root;rm"], "ERROR: --admin-user: the login 'root;rm' "
     "contains ';': use letters, digits and any of \"._-@+\""),
    (["--dummy-experiment-name", "a`b`"], "ERROR: --dummy-experiment-name: "
     "the experiment 'a`b`' contains '`': use letters, digits and any of "
     "\"._-+\""),
    (["--base-url", "/a b"], "ERROR: --base-url '/a b' contains ' ': use "
     "letters, digits and ._~/-"),
])
def test_create_validation(tmp_parent, args, message):
    target = tmp_parent / "sample"
    r = run_admin("create", target, *args)
    assert r.returncode != 0
    assert err_line(r) == message
    assert not target.exists(), "nothing may be created"


def test_create_existing_directory(tmp_parent):
    target = tmp_parent / "sample"
    target.mkdir()
    r = run_admin("create", target)
    assert r.returncode != 0
    assert err_line(r) == ("ERROR: Directory %s already exists. Use --force "
                           "if you want to overwrite the contents." % target)
    assert list(target.iterdir()) == []

    afile = tmp_parent / "afile"
    afile.write_text("x")
    r = run_admin("create", afile, "--force")
    assert err_line(r) == ("ERROR: %s is not a directory. Delete it before "
                           "proceeding." % afile)


def test_create_http_server_port_clash(tmp_parent):
    r = run_admin("create", tmp_parent / "s", "--start-port", "20000",
                  "--http-server-port", "20001")
    assert err_line(r) == ("ERROR: --http-server-port 20001 is one of the "
                           "ports from --start-port (20000-20001)")


def test_usage_and_help():
    r = run_admin()
    assert r.returncode == 2 and "usage:" in r.stderr
    assert run_admin("--version").stdout.startswith("weblab-admin")
    r = run_admin("frobnicate", "/tmp")
    assert r.returncode == 2
    assert err_line(r).startswith("ERROR: unknown command 'frobnicate'")
    r = run_admin("create", "/tmp/x", "--no-such-option")
    assert r.returncode == 2 and r.stderr.startswith("ERROR: ")
    r = run_admin("user")
    assert r.returncode == 2 and "user add" in r.stderr


def _commands():
    out = run_admin("--help").stdout
    return [re.split(r"\s{2,}", line.strip())[0]
            for line in out.split("commands:")[1].split("\n\n")[0]
            .strip().splitlines()]


def test_every_command_and_option_is_documented():
    """docs/sysadmin.md names every subcommand and every option of
    weblab-admin (--help is the source of truth)."""
    doc = (TOP_SRCDIR / "docs" / "sysadmin.md").read_text()
    commands = _commands()
    assert "create" in commands and "user add" in commands
    missing = []
    for cmd in commands:
        r = run_admin(*(cmd.split() + ["--help"]))
        assert r.returncode == 0, cmd
        assert r.stdout.startswith("usage: weblab-admin %s" % cmd)
        if ("weblab-admin %s" % cmd) not in doc:
            missing.append(cmd)
        for opt in re.findall(r"--[a-z][a-z-]+", r.stdout):
            if opt != "--help" and ("`%s" % opt) not in doc:
                missing.append("%s %s" % (cmd, opt))
    assert not missing, "not in docs/sysadmin.md: %s" % sorted(set(missing))


# ---------------------------------------------------------------- create

def test_create_files(deployment_factory):
    d = deployment_factory(copies=2, extra=["--admin-mail",
                                            "admin@example.org"])
    out = d.create_result.stdout
    root = str(d.path)
    for sub in ("db/WebLab.db", "db/WebLabCoordination.db", "httpd/core1.conf",
                "httpd/apache_weblab_generic.conf", "logs", "run",
                "weblab.conf"):
        assert d.file(sub).exists(), sub
    assert not d.file("httpd/front.conf").exists()

    if os.geteuid() == 0:
        www = pwd.getpwnam("www-data").pw_uid
        for dirpath, dirnames, filenames in os.walk(d.path):
            for name in dirnames + filenames:
                st = os.lstat(os.path.join(dirpath, name))
                assert st.st_uid == www, os.path.join(dirpath, name)

    core = d.text("httpd/core1.conf")
    port = d.core_ports[0]
    for line in ("Listen 127.0.0.1:%d" % port,
                 'PidFile "%s/run/core1.pid"' % root,
                 'ErrorLog "%s/logs/core1_error.log"' % root,
                 'DefaultRuntimeDir "%s/run"' % root,
                 "Mutex file:%s/run default" % root,
                 'LoadModule weblab_module "%s"' % MODULE,
                 'WeblabDatabase "sqlite:%s/db/WebLab.db"' % root,
                 "WeblabCoordinationEngine sql",
                 'WeblabCoordinationDatabase "sqlite:%s/db/'
                 'WebLabCoordination.db"' % root,
                 "WeblabRoute route1",
                 'WeblabServerURL "http://localhost/weblab/"',
                 "WeblabPollTime 350",
                 'WeblabServerAdmin "admin@example.org"',
                 "<Location /weblab/json>", "<Location /weblab/login/json>",
                 "SetHandler weblab-json"):
        assert line in core, line
    for mod in ("mpm_worker", "authz_core", "mime", "alias", "headers",
                "status"):
        assert re.search(r"^LoadModule %s_module \S+/mod_%s\.so" % (mod, mod),
                         core, re.M), mod
    assert re.search(r"^ThreadsPerChild \d+$", core, re.M)
    assert re.search(r"^MaxRequestWorkers \d+$", core, re.M)
    # every file httpd writes stays inside the deployment
    for directive in ("PidFile", "ErrorLog", "DefaultRuntimeDir", "ServerRoot"):
        value = re.search(r'^%s "?([^"\s]+)' % directive, core, re.M).group(1)
        assert value.startswith(root), directive

    generic = d.text("httpd/apache_weblab_generic.conf")
    for line in ("RedirectMatch ^/weblab$ /weblab/",
                 "ProxyPreserveHost On",
                 "ProxyPass /weblab/client !", "ProxyPass /weblab/static !",
                 "<Location /weblab/>"):
        assert line in generic, line
    assert re.search(r"^ProxyPass\s+/weblab/ balancer://_weblab_cluster/ "
                     r"stickysession=weblabsessionid", generic, re.M)
    assert re.search(r"^ProxyPassReverse\s+/weblab/ "
                     r"balancer://_weblab_cluster/", generic, re.M)
    assert re.findall(r"BalancerMember (\S+) route=(\S+)", generic) == [
        ("http://127.0.0.1:%d/weblab" % port, "route1")]
    htdocs = str(TOP_SRCDIR / "htdocs")
    assert 'Alias /weblab/client "%s"' % htdocs in generic
    assert generic.index("ProxyPass /weblab/client !") < \
        generic.index("balancer://_weblab_cluster/")

    conf = d.text("weblab.conf")
    assert "core.1.port = %d" % port in conf
    for i, lport in enumerate(d.lab_ports, 1):
        assert "lab.exp%d.port = %d" % (i, lport) in conf
        assert ("lab.exp%d.command = %s --bind 127.0.0.1 --port %d --lab dummy"
                % (i, EXPERIMENT_SERVER, lport)) in conf

    # the final message: Include line, Debian hints, a2enmod, start, login
    assert "Congratulations! WebLab-Deusto system created" in out
    assert '    Include "%s/httpd/apache_weblab_generic.conf"' % root in out
    assert "/etc/apache2/conf-available/weblab.conf" in out
    assert "$ sudo a2enconf weblab" in out
    assert ("$ sudo a2enmod proxy proxy_balancer proxy_http headers "
            "lbmethod_bybusyness") in out
    assert "--http-server-port=8000" in out
    assert "weblab-admin start %s" % d.path in out
    assert "http://localhost/weblab/" in out
    assert "And log in as 'admin' using 'password' as password." in out


@needs_module
def test_generated_configs_pass_httpd_syntax_check(deployment_factory):
    d = deployment_factory(front=True)
    for conf in ("httpd/core1.conf", "httpd/front.conf"):
        r = subprocess.run([HTTPD_BIN, "-t", "-f", str(d.file(conf))],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert "Syntax OK" in r.stderr


def test_create_front_and_base_url(deployment_factory):
    d = deployment_factory(front=True, base_url="labs/")
    out = d.create_result.stdout
    front = d.text("httpd/front.conf")
    root = str(d.path)
    assert "Listen %d" % d.front_port in front
    for mod in ("proxy", "proxy_http", "proxy_balancer", "slotmem_shm",
                "lbmethod_byrequests", "lbmethod_bybusyness", "headers",
                "alias", "authz_core", "mime", "dir"):
        assert re.search(r"^LoadModule %s_module " % mod, front, re.M), mod
    assert re.search(r"^LoadModule mpm_(event|worker)_module", front, re.M)
    assert 'Include "%s/httpd/apache_weblab_generic.conf"' % root in front
    assert "RedirectMatch ^/$ /labs/weblab/" in front
    assert 'PidFile "%s/run/front.pid"' % root in front
    assert 'ErrorLog "%s/logs/front_error.log"' % root in front

    generic = d.text("httpd/apache_weblab_generic.conf")
    assert "RedirectMatch ^/labs/weblab$ /labs/weblab/" in generic
    assert re.search(r"^ProxyPass\s+/labs/weblab/ "
                     r"balancer://labs_weblab_cluster/", generic, re.M)
    assert "<Proxy balancer://labs_weblab_cluster>" in generic
    core = d.text("httpd/core1.conf")
    assert ('WeblabServerURL "http://localhost:%d/labs/weblab/"'
            % d.front_port) in core
    assert "front.port = %d" % d.front_port in d.text("weblab.conf")

    assert "http://localhost:%d/labs/weblab/" % d.front_port in out
    assert "weblab-admin start %s" % d.path in out
    assert "a2enmod" not in out


def test_httpd_config_generate_three_cores(deployment_factory):
    """Three cores need MySQL at create time; weblab.conf edited by hand
    gives the generator the same input."""
    d = deployment_factory()
    ports = [d.core_ports[0], free_port(), free_port()]
    with open(d.file("weblab.conf"), "a") as f:
        f.write("core.2.port = %d\ncore.3.port = %d\n" % (ports[1], ports[2]))
    r = d.admin("httpd-config-generate")
    assert "3 cores" in r.stdout
    generic = d.text("httpd/apache_weblab_generic.conf")
    assert re.findall(r"BalancerMember (\S+) route=(\S+)", generic) == [
        ("http://127.0.0.1:%d/weblab" % p, "route%d" % i)
        for i, p in enumerate(ports, 1)]
    mrw = _mpm_conf(d)["max_request_workers"]
    for i, p in enumerate(ports, 1):
        core = d.text("httpd/core%d.conf" % i)
        assert "Listen 127.0.0.1:%d" % p in core
        assert "WeblabRoute route%d" % i in core
        assert 'PidFile "%s/run/core%d.pid"' % (d.path, i) in core
        _assert_mpm(core, 64, mrw)    # each core's
    assert list(d.path.glob("httpd/apache_weblab_generic.conf-backup-*"))
    assert re.search(r"^core1\.\.3 +worker +64 +%d +%d " % (mrw // 64, mrw),
                     d.admin("status", check=False).stdout, re.M)


# ---------------------------------------------------------------- httpd sizing

MPM_DIRECTIVES = ("StartServers", "ServerLimit", "ThreadsPerChild",
                  "ThreadLimit", "MaxRequestWorkers", "MinSpareThreads",
                  "MaxSpareThreads")


def _directives(text):
    """{Directive: value} of the one-value lines of an httpd config."""
    return dict(re.findall(r"^([A-Z][A-Za-z]+) (\S+)$", text, re.M))


def _mpm_conf(d):
    """The mpm.* values of weblab.conf."""
    return {k: int(v) for k, v in re.findall(r"^mpm\.(\w+) = (-?\d+)$",
                                             d.text("weblab.conf"), re.M)}


def _machine():
    ncpu = max(1, os.sysconf("SC_NPROCESSORS_ONLN"))
    ram_mb = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2**20
    return ncpu, ram_mb


def _default_workers(tpc=64, cores=1):
    """The documented rule: 256 per CPU, at most 1024 and one per 4 MiB of
    RAM shared by the cores, a multiple of ThreadsPerChild, at least one."""
    ncpu, ram_mb = _machine()
    n = min(256 * ncpu, 1024, ram_mb // 4 // cores)
    return max(n - n % tpc, tpc)


def _assert_mpm(text, tpc, mrw, front=False):
    """The MPM directives of a generated config; returns all directives. A
    core starts all its children at once (a cold core takes a burst without
    waiting for forks); the front starts one."""
    dirs = _directives(text)
    got = {k: int(dirs[k]) for k in MPM_DIRECTIVES}
    assert got == {"StartServers": 1 if front else mrw // tpc,
                   "ServerLimit": mrw // tpc,
                   "ThreadsPerChild": tpc, "ThreadLimit": tpc,
                   "MaxRequestWorkers": mrw, "MinSpareThreads": tpc,
                   "MaxSpareThreads": mrw}
    # anything else httpd lowers, with an AH00... warning
    assert got["ServerLimit"] * got["ThreadsPerChild"] == \
        got["MaxRequestWorkers"]
    return dirs


def _sizing(tpc, mrw, front_mrw=None, keepalive=5, computed=None):
    """status --json "httpd_sizing" for these values."""
    front = None
    if front_mrw is not None:
        front = {"mpm": "event", "threads_per_child": tpc,
                 "server_limit": front_mrw // tpc,
                 "max_request_workers": front_mrw,
                 "keepalive_timeout": None}
    return {"computed": computed,
            "core": {"mpm": "worker", "threads_per_child": tpc,
                     "server_limit": mrw // tpc, "max_request_workers": mrw,
                     "keepalive_timeout": keepalive},
            "front": front}


def test_mpm_defaults(deployment_factory):
    """Computed from the machine at create time, written to weblab.conf and
    to the core and front configs alike, shown by status."""
    d = deployment_factory(front=True)
    mrw = _default_workers()
    ncpu, ram_mb = _machine()
    assert _mpm_conf(d) == {"threads_per_child": 64,
                            "max_request_workers": mrw,
                            "front_max_request_workers": mrw,
                            "keepalive_timeout": 5}
    conf = " ".join(l.lstrip("# ") for l in d.text("weblab.conf").splitlines())
    assert ("Here: ThreadsPerChild the default; MaxRequestWorkers computed "
            "for this machine (%d CPU%s, %d MiB of RAM, 1 core); the front's "
            "MaxRequestWorkers as a core's; KeepAliveTimeout the default."
            % (ncpu, "s" if ncpu > 1 else "", ram_mb)) in conf
    assert '"weblab-admin httpd-config-generate DIR" rewrites' in conf

    core = d.text("httpd/core1.conf")
    dirs = _assert_mpm(core, 64, mrw)
    assert dirs["KeepAlive"] == "On" and dirs["KeepAliveTimeout"] == "5"
    assert "# Sizing: the mpm.* values of weblab.conf" in core
    _assert_mpm(d.text("httpd/front.conf"), 64, mrw, front=True)

    assert d.status()["httpd_sizing"] == _sizing(64, mrw, mrw)
    text = d.admin("status", check=False).stdout
    rows = [l.split() for l in text.split("\n\n")[1].splitlines()]
    assert rows == [
        ["HTTPD", "MPM", "THREADSPERCHILD", "SERVERLIMIT",
         "MAXREQUESTWORKERS", "KEEPALIVETIMEOUT"],
        ["core1", "worker", "64", str(mrw // 64), str(mrw), "5", "s"],
        ["front", "event", "64", str(mrw // 64), str(mrw), "httpd's",
         "default"]]


def test_mpm_overrides(deployment_factory):
    d = deployment_factory(front=True, extra=[
        "--threads-per-child", "16", "--max-request-workers", "96",
        "--front-max-request-workers", "32", "--keepalive-timeout", "0"])
    assert _mpm_conf(d) == {"threads_per_child": 16,
                            "max_request_workers": 96,
                            "front_max_request_workers": 32,
                            "keepalive_timeout": 0}
    assert "# Here: as given to create." in d.text("weblab.conf")
    core = _assert_mpm(d.text("httpd/core1.conf"), 16, 96)
    assert core["KeepAlive"] == "Off" and "KeepAliveTimeout" not in core
    _assert_mpm(d.text("httpd/front.conf"), 16, 32, front=True)
    assert d.status()["httpd_sizing"] == _sizing(16, 96, 32, keepalive=0)
    assert re.search(r"^core1 +worker +16 +6 +96 +off$",
                     d.admin("status", check=False).stdout, re.M)

    # weblab.conf is where they live: edit it, generate again
    conf = d.text("weblab.conf")
    d.file("weblab.conf").write_text(
        conf.replace("mpm.keepalive_timeout = 0",
                     "mpm.keepalive_timeout = 15"))
    r = d.admin("httpd-config-generate")
    assert r.stdout.endswith('"weblab-admin restart %s" applies them\n'
                             % d.path)
    core = _assert_mpm(d.text("httpd/core1.conf"), 16, 96)
    assert core["KeepAlive"] == "On" and core["KeepAliveTimeout"] == "15"
    # a new ServerLimit needs httpd started anew: generate says so
    d.file("weblab.conf").write_text(
        d.text("weblab.conf").replace("mpm.max_request_workers = 96",
                                      "mpm.max_request_workers = 48"))
    r = d.admin("httpd-config-generate")
    assert r.stdout.endswith(
        'ServerLimit or ThreadLimit changed, which a graceful restart cannot '
        'apply: "weblab-admin stop %s" and then "weblab-admin start %s" '
        'apply them\n' % (d.path, d.path))
    _assert_mpm(d.text("httpd/core1.conf"), 16, 48)
    _assert_mpm(d.text("httpd/front.conf"), 16, 32, front=True)


@pytest.mark.parametrize("extra,tpc,mrw", [
    # ThreadsPerChild alone: the default MaxRequestWorkers, a multiple of it
    (["--threads-per-child", "48"], 48, None),
    # MaxRequestWorkers alone: 64 threads per child; the front follows
    (["--max-request-workers", "128"], 64, 128),
    # one child
    (["--threads-per-child", "10", "--max-request-workers", "10"], 10, 10),
])
def test_mpm_partial_overrides(deployment_factory, extra, tpc, mrw):
    d = deployment_factory(front=True, extra=extra)
    mrw = mrw or _default_workers(tpc)
    assert _mpm_conf(d) == {"threads_per_child": tpc,
                            "max_request_workers": mrw,
                            "front_max_request_workers": mrw,
                            "keepalive_timeout": 5}
    assert "the others as given to create." in " ".join(
        l.lstrip("# ") for l in d.text("weblab.conf").splitlines())
    _assert_mpm(d.text("httpd/core1.conf"), tpc, mrw)
    _assert_mpm(d.text("httpd/front.conf"), tpc, mrw, front=True)


MPM_NOT_MULTIPLE = ("ERROR: --%s %d is not a multiple of --threads-per-child "
                    "64 (httpd would lower it to 64): use 64 or 128")


@pytest.mark.parametrize("args,message", [
    (["--threads-per-child", "0"], "ERROR: --threads-per-child must be "
     "between 1 and 20000 (httpd's ThreadLimit maximum), not 0"),
    (["--threads-per-child", "20001"], "ERROR: --threads-per-child must be "
     "between 1 and 20000 (httpd's ThreadLimit maximum), not 20001"),
    (["--threads-per-child", "many"],
     "ERROR: --threads-per-child expects an integer, not 'many'"),
    (["--max-request-workers", "0"],
     "ERROR: --max-request-workers must be at least 1, not 0"),
    (["--max-request-workers", "-64"],
     "ERROR: --max-request-workers must be at least 1, not -64"),
    (["--max-request-workers", "100"],
     MPM_NOT_MULTIPLE % ("max-request-workers", 100)),
    (["--threads-per-child", "16", "--max-request-workers", "8"],
     "ERROR: --max-request-workers 8 is less than --threads-per-child 16: "
     "an httpd needs at least one full child process"),
    (["--threads-per-child", "1", "--max-request-workers", "20001"],
     "ERROR: --max-request-workers 20001 needs 20001 processes of 1 thread, "
     "more than httpd's ServerLimit maximum of 20000: raise "
     "--threads-per-child"),
    (["--keepalive-timeout", "-1"], "ERROR: --keepalive-timeout must be "
     "between 0 (KeepAlive Off) and 3600 seconds, not -1"),
    (["--keepalive-timeout", "3601"], "ERROR: --keepalive-timeout must be "
     "between 0 (KeepAlive Off) and 3600 seconds, not 3601"),
    (["--front-max-request-workers", "128"], "ERROR: "
     "--front-max-request-workers sizes the front of --http-server-port; "
     "without it the deployment has no front of its own"),
    (["--http-server-port", "18999", "--front-max-request-workers", "96"],
     MPM_NOT_MULTIPLE % ("front-max-request-workers", 96)),
])
def test_create_mpm_validation(tmp_parent, args, message):
    target = tmp_parent / "sample"
    r = run_admin("create", target, *args)
    assert r.returncode == 1
    assert err_line(r) == message
    assert not target.exists(), "nothing may be created"


@pytest.mark.parametrize("line,message", [
    ("mpm.threads_per_child = 0", ": mpm.threads_per_child must be between "
     "1 and 20000 (httpd's ThreadLimit maximum), not 0"),
    ("mpm.max_request_workers = 100", ": mpm.max_request_workers 100 is not "
     "a multiple of mpm.threads_per_child 64 (httpd would lower it to 64): "
     "use 64 or 128"),
    ("mpm.front_max_request_workers = 32", ": mpm.front_max_request_workers "
     "32 is less than mpm.threads_per_child 64: an httpd needs at least one "
     "full child process"),
    ("mpm.keepalive_timeout = -5", ": mpm.keepalive_timeout must be between "
     "0 (KeepAlive Off) and 3600 seconds, not -5"),
    ("mpm.max_request_workers = lots", " line %d: mpm.max_request_workers "
     "must be a whole number, not 'lots'"),
    ("mpm.workers = 4", " line %d: unknown key 'mpm.workers' "
     "(mpm.threads_per_child, mpm.max_request_workers, "
     "mpm.front_max_request_workers, mpm.keepalive_timeout)"),
])
def test_mpm_bad_weblab_conf(deployment_factory, line, message):
    """A hand-edited weblab.conf with values httpd would not take as they
    are: httpd-config-generate says which and writes nothing."""
    d = deployment_factory(front=True, extra=["--threads-per-child", "64",
                                              "--max-request-workers", "128"])
    before = {f.name: f.read_text() for f in d.path.glob("httpd/*.conf")}
    conf = d.text("weblab.conf") + line + "\n"
    d.file("weblab.conf").write_text(conf)
    r = d.admin("httpd-config-generate", check=False)
    assert r.returncode == 1 and r.stdout == ""
    if "%d" in message:
        message = message % len(conf.splitlines())
    assert err_line(r) == "ERROR: %s/weblab.conf%s" % (d.path, message)
    assert {f.name: f.read_text()
            for f in d.path.glob("httpd/*.conf")} == before
    assert not list(d.path.glob("httpd/*-backup-*"))


def test_mpm_old_weblab_conf_without_keys(deployment_factory):
    """A weblab.conf written before the mpm.* keys still works: the
    defaults of this machine are used, and said so."""
    d = deployment_factory(front=True, extra=["--threads-per-child", "8",
                                              "--max-request-workers", "16"])
    conf = d.text("weblab.conf")
    old = conf[:conf.index("\n# httpd sizing") + 1]
    assert "mpm." not in old
    d.file("weblab.conf").write_text(old)
    assert "1 core and the front" in d.admin("httpd-config-generate").stdout
    mrw = _default_workers()
    core = d.text("httpd/core1.conf")
    _assert_mpm(core, 64, mrw)
    _assert_mpm(d.text("httpd/front.conf"), 64, mrw, front=True)
    assert ("# Sizing: weblab-admin's defaults for this machine (weblab.conf "
            "lacks mpm.* keys)") in core
    computed = d.status()["httpd_sizing"]["computed"]
    assert computed.startswith("ThreadsPerChild the default; "
                               "MaxRequestWorkers computed for this machine (")
    assert d.status()["httpd_sizing"] == _sizing(64, mrw, mrw,
                                                 computed=computed)
    assert "\n(not in weblab.conf: %s)\n" % computed in \
        d.admin("status", check=False).stdout
    assert d.text("weblab.conf") == old, "only create writes weblab.conf"

    # some keys only: the others follow them
    d.file("weblab.conf").write_text(old + "mpm.threads_per_child = 32\n")
    d.admin("httpd-config-generate")
    mrw = _default_workers(32)
    _assert_mpm(d.text("httpd/core1.conf"), 32, mrw)
    assert d.status()["httpd_sizing"]["computed"].startswith(
        "MaxRequestWorkers computed for this machine (")


def _scoreboard(d):
    """The Scoreboard line of core 1's server-status: one character per
    ServerLimit x ThreadLimit slot."""
    import urllib.request
    with urllib.request.urlopen(d.base(1) + "/server-status?auto",
                                timeout=10) as resp:
        return re.search(r"^Scoreboard: (\S+)$", resp.read().decode(),
                         re.M).group(1)


HTTPD_LEVEL_WARN = re.compile(r":(warn|error|crit|alert|emerg)\]")
# what httpd says when it lowers or raises an MPM value itself
HTTPD_MPM_ADJUSTED = re.compile(
    r"AH0\d+: WARNING: (MaxRequestWorkers|ThreadsPerChild|ServerLimit|"
    r"ThreadLimit|StartServers|MinSpareThreads|MaxSpareThreads)")


@needs_servers
def test_mpm_small_values_run(deployment_factory):
    """--threads-per-child 4 --max-request-workers 8: httpd takes the
    configs as they are and runs with exactly those threads; a larger
    sizing takes effect after stop and start, without a warning either."""
    d = deployment_factory(front=True, extra=["--threads-per-child", "4",
                                              "--max-request-workers", "8"])
    for conf in ("httpd/core1.conf", "httpd/front.conf"):
        r = subprocess.run([HTTPD_BIN, "-t", "-f", str(d.file(conf))],
                           capture_output=True, text=True)
        assert r.returncode == 0 and "Syntax OK" in r.stderr, r.stderr
        assert "AH0" not in r.stderr, r.stderr
    d.start()
    assert d.status()["up"] is True
    # the scoreboard has ServerLimit x ThreadLimit slots: 2 x 4
    assert len(_scoreboard(d)) == 8
    st, body, _ = d.post_json("/weblab/login/json/", "login",
                              {"username": "admin", "password": "password"},
                              core=0)
    assert st == 200 and body["is_exception"] is False, body

    # twice the workers: stop and start (as generate says) apply them
    d.file("weblab.conf").write_text(
        d.text("weblab.conf")
        .replace("mpm.max_request_workers = 8", "mpm.max_request_workers = 16")
        .replace("mpm.front_max_request_workers = 8",
                 "mpm.front_max_request_workers = 16"))
    assert "weblab-admin stop" in d.admin("httpd-config-generate").stdout
    d.stop()
    d.start()
    assert len(_scoreboard(d)) == 16
    d.stop()
    logs = {f.name: f.read_text(errors="replace")
            for f in d.path.glob("logs/*error*.log")}
    assert set(logs) >= {"core1_error.log", "front_error.log"}
    bad = [l for text in logs.values() for l in text.splitlines()
           if HTTPD_LEVEL_WARN.search(l) or HTTPD_MPM_ADJUSTED.search(l)]
    assert bad == []


def test_create_force_recreates(deployment_factory):
    d = deployment_factory()
    d.admin("user add", "someone", "--password", "x")
    r = run_admin("create", d.path, "--force", "--quiet", "--start-port",
                  d.start_port)
    assert r.returncode == 0 and r.stdout == ""
    assert d.db_query("SELECT COUNT(*) FROM \"User\" WHERE login = ?",
                      ["someone"]) == [[0]]


def test_create_database(deployment_factory):
    d = deployment_factory(copies=2)
    q = d.db_query
    assert sorted(r[0] for r in q("SELECT name FROM Role")) == [
        "administrator", "federated", "instructor", "student"]
    assert sorted(r[0] for r in q("SELECT name FROM AuthType")) == [
        "DB", "FACEBOOK", "LDAP", "OPENID", "TRUSTED-IP-ADDRESSES"]
    assert q("SELECT a.name, a.priority, t.name FROM Auth a JOIN AuthType t "
             "ON t.id = a.auth_type_id WHERE a.priority = 1") == [
        ["WebLab DB", 1, "DB"]]
    assert sorted(r[0] for r in q("SELECT permanent_id FROM RolePermission")
                  ) == ["administrator_role::access_all_labs",
                        "administrator_role::admin_panel_access",
                        "federated_role::access_forward"]

    admin = q('SELECT u.id, u.full_name, r.name FROM "User" u JOIN Role r '
              "ON r.id = u.role_id WHERE u.login = 'admin'")
    assert [a[1:] for a in admin] == [["Administrator", "administrator"]]
    assert q('SELECT g.name FROM UserIsMemberOf m JOIN "Group" g '
             "ON g.id = m.group_id WHERE m.user_id = ?", [admin[0][0]]) == [
        ["Administrators"]]
    (stored,), = q("SELECT configuration FROM UserAuth WHERE user_id = ?",
                   [admin[0][0]])
    assert stored.startswith("$2y$")
    assert crypt_verify("password", stored)
    assert not crypt_verify("wrong", stored)

    assert q("SELECT p.permission_type, p.permanent_id, pp.value FROM "
             'GroupPermission p JOIN "Group" g ON g.id = p.group_id '
             "LEFT JOIN GroupPermissionParameter pp ON pp.permission_id = p.id "
             "AND pp.permission_type_parameter = 'full_privileges' "
             "WHERE g.name = 'Administrators' AND p.permission_type = "
             "'admin_panel_access'") == [
        ["admin_panel_access", "Administrators:admin-panel", "True"]]

    exp = q("SELECT e.id, e.client, e.start_date, e.end_date FROM Experiment e "
            "JOIN ExperimentCategory c ON c.id = e.category_id "
            "WHERE e.name = 'dummy' AND c.name = 'Dummy experiments'")
    assert len(exp) == 1 and exp[0][1] == "js"
    start = datetime.fromisoformat(exp[0][2])
    end = datetime.fromisoformat(exp[0][3])
    assert abs(start - datetime.utcnow()) < timedelta(minutes=5)
    assert end.year == start.year + 12
    assert sorted(q("SELECT parameter_name, parameter_type, value FROM "
                    "ExperimentClientParameter WHERE experiment_id = ?",
                    [exp[0][0]])) == [["builtin", "bool", "True"],
                                      ["html.file", "string",
                                       "nativelabs/dummy.html"]]
    perm = q("SELECT p.id FROM GroupPermission p WHERE permanent_id = "
             "'Administrators users::dummy@Dummy experiments' AND "
             "permission_type = 'experiment_allowed'")
    assert len(perm) == 1
    assert sorted(q("SELECT permission_type_parameter, value FROM "
                    "GroupPermissionParameter WHERE permission_id = ?",
                    [perm[0][0]])) == [
        ["experiment_category_id", "Dummy experiments"],
        ["experiment_permanent_id", "dummy"], ["time_allowed", "200"]]
    assert q("SELECT instance_name, resource_instance, resource_type, "
             "transport, url FROM ExperimentInstance ORDER BY instance_name"
             ) == [["exp%d" % i, "dummy%d" % i, "dummy_queue", "xmlrpc",
                    "http://127.0.0.1:%d/" % p]
                   for i, p in enumerate(d.lab_ports, 1)]

    tables = {r[0] for r in d.db_query(
        "SELECT name FROM sqlite_master WHERE type = 'table'",
        db="WebLabCoordination")}
    assert {"WebSession", "Reservation", "ResourceInstance"} <= tables

    users = json.loads(d.admin("user list", "--json").stdout)
    assert [(u["login"], u["role"], u["groups"], u["password"])
            for u in users] == [("admin", "administrator", ["Administrators"],
                                 "bcrypt")]
    assert d.admin("user verify", "admin", "--password", "password"
                   ).returncode == 0
    r = d.admin("user verify", "admin", "--password", "nope", check=False)
    assert r.returncode == 1
    assert err_line(r) == "ERROR: the password of admin does not match"


def test_create_no_lab_and_test_data(deployment_factory):
    d = deployment_factory(copies=0, extra=["--no-lab", "--add-test-data",
                                            "--admin-user", "boss",
                                            "--admin-password", "s3cret"])
    assert d.db_query("SELECT COUNT(*) FROM Experiment") == [[0]]
    assert not re.search(r"^lab\.", d.text("weblab.conf"), re.M)
    users = {u["login"]: u for u in
             json.loads(d.admin("user list", "--json").stdout)}
    assert set(users) == {"boss", "student1", "student2", "student3",
                          "student4"}
    assert users["student2"]["groups"] == ["Students"]
    assert d.admin("user verify", "boss", "--password", "s3cret"
                   ).returncode == 0
    assert "log in as 'boss' using 's3cret'" in d.create_result.stdout


def test_test_data_students_have_a_permission(deployment_factory):
    d = deployment_factory(extra=["--add-test-data"])
    assert d.db_query("SELECT permanent_id FROM GroupPermission WHERE "
                      "permanent_id LIKE 'Students%'") == [
        ["Students users::dummy@Dummy experiments"]]
    assert d.admin("user verify", "student3", "--password", "password"
                   ).returncode == 0


# ---------------------------------------------------------------- administration

def count(d, table):
    return d.db_query('SELECT COUNT(*) FROM "%s"' % table)[0][0]


def snapshot(d):
    return {t: count(d, t) for t in (
        "User", "Group", "UserIsMemberOf", "UserAuth", "UserPermission",
        "UserPermissionParameter", "GroupPermission",
        "GroupPermissionParameter", "Experiment", "ExperimentInstance")}


def test_users_round_trip(deployment_factory):
    d = deployment_factory()
    d.admin("group add", "Course 2024/25")
    d.admin("user add", "ana.perez", "--name", "Ana Pérez", "--email",
            "ana@example.org", "--role", "instructor", "--password",
            "pw1", "--group", "Course 2024/25", "--group", "Administrators")
    row = d.db_query('SELECT u.full_name, u.email, r.name FROM "User" u '
                     "JOIN Role r ON r.id = u.role_id WHERE login = ?",
                     ["ana.perez"])
    assert row == [["Ana Pérez", "ana@example.org", "instructor"]]
    assert sorted(r[0] for r in d.db_query(
        'SELECT g.name FROM UserIsMemberOf m JOIN "Group" g ON g.id = '
        'm.group_id JOIN "User" u ON u.id = m.user_id WHERE u.login = ?',
        ["ana.perez"])) == ["Administrators", "Course 2024/25"]
    (h1,), = d.db_query('SELECT configuration FROM UserAuth ua JOIN "User" u '
                        "ON u.id = ua.user_id WHERE u.login = 'ana.perez'")
    assert crypt_verify("pw1", h1)

    d.admin("user passwd", "ana.perez", "--password", "-", input="pw2\n")
    (h2,), = d.db_query('SELECT configuration FROM UserAuth ua JOIN "User" u '
                        "ON u.id = ua.user_id WHERE u.login = 'ana.perez'")
    assert h2 != h1 and crypt_verify("pw2", h2)

    legacy = "aaaa{sha}a776159c8c7ff8b73e43aa54d081979e72511474"
    d.admin("user add", "old", "--legacy-hash", legacy)
    assert d.db_query('SELECT configuration FROM UserAuth ua JOIN "User" u '
                      "ON u.id = ua.user_id WHERE u.login = 'old'") == [
        [legacy]]
    assert d.admin("user verify", "old", "--password", "password"
                   ).returncode == 0

    listed = {u["login"]: u for u in
              json.loads(d.admin("user list", "--json").stdout)}
    assert listed["old"]["password"] == "legacy-sha"
    assert listed["ana.perez"]["role"] == "instructor"

    d.admin("user disable", "old")
    assert d.db_query('SELECT disabled FROM "User" WHERE login = ?',
                      ["old"]) == [[1]]
    d.admin("user enable", "old")
    d.admin("user remove", "old")
    assert d.db_query('SELECT COUNT(*) FROM "User" WHERE login = ?',
                      ["old"]) == [[0]]
    assert count(d, "UserAuth") == 2          # admin, ana.perez


@pytest.mark.parametrize("command,args,message", [
    ("user add", ["admin", "--password", "x"],
     "ERROR: user 'admin' already exists"),
    ("user add", ["x'; DROP TABLE \"User\"; --", "--password", "x"],
     "ERROR: the login 'x'; DROP TABLE \"User\"; --' contains ''': use "
     "letters, digits and any of \"._-@+\""),
    ("user add", ["$(reboot)", "--password", "x"],
     "ERROR: the login '$(reboot)' contains '$': use letters, digits and "
     "any of \"._-@+\""),
    ("user add", ["bob", "--password", "x", "--group", "Nope"],
     "ERROR: unknown group 'Nope'"),
    ("user add", ["bob", "--password", "x", "--role", "superuser"],
     "ERROR: unknown role 'superuser' (federated, administrator, instructor "
     "or student)"),
    ("user add", ["bob", "--name", "Bob `id`", "--password", "x"],
     "ERROR: the full name 'Bob `id`' contains '`'"),
    ("user add", ["bob", "--email", "not an email"],
     "ERROR: 'not an email' is not an email address"),
    ("user add", ["bob", "--legacy-hash", "plaintext"],
     "ERROR: a stored password must look like <salt>{sha}<hex digits> (the "
     "original's form) or a bcrypt hash"),
    ("user add", ["bob", "--password", "a", "--legacy-hash", "a{sha}00"],
     "ERROR: give --password or --legacy-hash, not both"),
    ("user remove", ["ghost"], "ERROR: unknown user 'ghost'"),
    ("user passwd", ["ghost", "--password", "x"],
     "ERROR: unknown user 'ghost'"),
    ("group add", ["Administrators"],
     "ERROR: group 'Administrators' already exists"),
    ("group add", ["a|b"], "ERROR: the group 'a|b' contains '|': use letters, "
     "digits and any of \" ._-+/,\""),
    ("group add", ["Sub", "--parent", "Nope"], "ERROR: unknown group 'Nope'"),
    ("group add-user", ["Administrators", "admin"],
     "ERROR: user 'admin' is already in group 'Administrators'"),
    ("group add-user", ["Administrators", "ghost"],
     "ERROR: unknown user 'ghost'"),
    ("group remove-user", ["Nope", "admin"], "ERROR: unknown group 'Nope'"),
    ("grant", ["--user", "ghost", "dummy@Dummy experiments", "--time", "10"],
     "ERROR: unknown user 'ghost'"),
    ("grant", ["--group", "Administrators", "nope@Dummy experiments",
               "--time", "10"],
     "ERROR: unknown experiment 'nope@Dummy experiments'"),
    ("grant", ["--group", "Administrators", "dummy;ls@Dummy experiments",
               "--time", "10"],
     "ERROR: the experiment 'dummy;ls' contains ';': use letters, digits and "
     "any of \"._-+\""),
    ("grant", ["--user", "admin", "dummy@Dummy experiments"],
     "ERROR: --time SECONDS is required"),
    ("grant", ["--user", "admin", "dummy@Dummy experiments", "--time", "-5"],
     "ERROR: the time allowed must be a positive number of seconds"),
    ("grant", ["--user", "admin", "--group", "Administrators",
               "dummy@Dummy experiments", "--time", "5"],
     "ERROR: give exactly one of --user, --group and --role"),
    ("grant", ["--user", "admin", "dummy", "--time", "5"],
     "ERROR: 'dummy' is not an experiment id: use NAME@CATEGORY (dummy@Dummy "
     "experiments)"),
    ("revoke", ["--user", "admin", "dummy@Dummy experiments"],
     "ERROR: user 'admin' has no permission on dummy@Dummy experiments"),
    ("experiment add", ["dummy@Dummy experiments"],
     "ERROR: experiment 'dummy@Dummy experiments' already exists"),
    ("experiment add", ["x@Cat", "--param", "a:color=1"],
     "ERROR: client parameter 'a': the type must be string, integer, "
     "floating or bool"),
    ("instance add", ["dummy@Dummy experiments", "exp1", "--url",
                      "http://127.0.0.1:1/"],
     "ERROR: instance 'exp1' of dummy@Dummy experiments already exists"),
    ("instance add", ["dummy@Dummy experiments", "exp9", "--url",
                      "http://x/\"; rm -rf /"],
     "ERROR: the url 'http://x/\"; rm -rf /' contains a character that is "
     "not allowed in a URL"),
    ("instance add", ["dummy@Dummy experiments", "exp9", "--url",
                      "ftp://x/"],
     "ERROR: the url 'ftp://x/' must start with http:// or https://"),
    ("instance add", ["dummy@Dummy experiments", "exp9", "--url",
                      "http://x/", "--api", "3"],
     "ERROR: unknown api '3' (1, 2 or 2_concurrent)"),
    ("instance remove", ["dummy@Dummy experiments", "exp9"],
     "ERROR: unknown instance 'exp9' of dummy@Dummy experiments"),
    ("uses", ["--user", "ghost"], "ERROR: unknown user 'ghost'"),
])
def test_bad_input_changes_nothing(deployment_factory, command, args,
                                   message):
    d = deployment_factory()
    before = snapshot(d)
    r = d.admin(command, *args, check=False)
    assert r.returncode != 0
    assert err_line(r) == message
    assert snapshot(d) == before


def test_not_a_deployment(tmp_parent):
    r = run_admin("user", "list", tmp_parent)
    assert err_line(r) == ("ERROR: %s is not a deployment made by weblab-admin "
                           "create (no %s/weblab.conf)" % (tmp_parent,
                                                           tmp_parent))


def test_groups_round_trip(deployment_factory):
    d = deployment_factory()
    d.admin("group add", "Course")
    d.admin("group add", "Lab A", "--parent", "Course")
    d.admin("user add", "s1", "--password", "x")
    d.admin("group add-user", "Lab A", "s1")
    groups = {g["name"]: g for g in
              json.loads(d.admin("group list", "--json").stdout)}
    assert groups["Lab A"] == {"name": "Lab A", "parent": "Course",
                               "members": ["s1"]}
    assert groups["Administrators"]["members"] == ["admin"]
    assert d.db_query('SELECT p.name FROM "Group" g JOIN "Group" p ON '
                      "p.id = g.parent_id WHERE g.name = 'Lab A'") == [
        ["Course"]]
    r = d.admin("group remove", "Course", check=False)
    assert err_line(r) == ("ERROR: group 'Course' has 1 subgroups: remove "
                           "them first")
    d.admin("group remove-user", "Lab A", "s1")
    assert count(d, "UserIsMemberOf") == 1
    r = d.admin("group remove-user", "Lab A", "s1", check=False)
    assert err_line(r) == "ERROR: user 's1' is not in group 'Lab A'"
    d.admin("group remove", "Lab A")
    d.admin("group remove", "Course")
    assert [g["name"] for g in json.loads(
        d.admin("group list", "--json").stdout)] == ["Administrators"]


def _params(d, scope, permanent_id):
    table = scope.capitalize() + "Permission"
    return dict(d.db_query(
        "SELECT pp.permission_type_parameter, pp.value FROM %s p JOIN "
        "%sParameter pp ON pp.permission_id = p.id WHERE p.permanent_id = ?"
        % (table, table), [permanent_id]))


def test_grant_revoke_round_trip(deployment_factory):
    d = deployment_factory()
    d.admin("group add", "Students")
    d.admin("user add", "s1", "--password", "x", "--group", "Students")
    r = d.admin("grant", "--group", "Students", "dummy@Dummy experiments",
                "--time", "300", "--priority", "3")
    assert r.stdout.startswith("granted group Students")
    assert _params(d, "group", "Students users::dummy@Dummy experiments") == {
        "experiment_permanent_id": "dummy",
        "experiment_category_id": "Dummy experiments",
        "time_allowed": "300", "priority": "3"}
    d.admin("grant", "--user", "s1", "dummy@Dummy experiments", "--time",
            "120", "--no-initialization-in-accounting")
    assert _params(d, "user", "s1::dummy@Dummy experiments") == {
        "experiment_permanent_id": "dummy",
        "experiment_category_id": "Dummy experiments",
        "time_allowed": "120", "initialization_in_accounting": "False"}
    # granting again updates in place
    r = d.admin("grant", "--user", "s1", "dummy@Dummy experiments", "--time",
                "90.5")
    assert r.stdout.startswith("updated user s1")
    assert _params(d, "user", "s1::dummy@Dummy experiments")[
        "time_allowed"] == "90.5"
    assert count(d, "UserPermission") == 1
    d.admin("grant", "--role", "student", "dummy@Dummy experiments",
            "--time", "60")

    perms = json.loads(d.admin("permissions", "--json").stdout)
    by_id = {p["permanent_id"]: p for p in perms}
    assert by_id["s1::dummy@Dummy experiments"]["scope"] == "user"
    assert by_id["Students users::dummy@Dummy experiments"]["holder"] == \
        "Students"
    assert by_id["student_role::dummy@Dummy experiments"]["parameters"][
        "time_allowed"] == "60"
    assert by_id["Administrators:admin-panel"]["type"] == \
        "admin_panel_access"

    d.admin("revoke", "--user", "s1", "dummy@Dummy experiments")
    assert count(d, "UserPermission") == 0
    assert count(d, "UserPermissionParameter") == 0
    d.admin("revoke", "--group", "Students", "dummy@Dummy experiments")
    assert d.db_query("SELECT COUNT(*) FROM GroupPermission WHERE "
                      "permanent_id LIKE 'Students%'") == [[0]]


def test_experiments_and_instances(deployment_factory):
    d = deployment_factory()
    d.admin("experiment add", "robot@Robot experiments", "--client", "js",
            "--param", "html.file=robot.html", "--param", "height:integer=600",
            "--param", "builtin:bool=True")
    exps = {e["id"]: e for e in
            json.loads(d.admin("experiment list", "--json").stdout)}
    assert exps["robot@Robot experiments"]["parameters"] == {
        "builtin": {"type": "bool", "value": "True"},
        "height": {"type": "integer", "value": "600"},
        "html.file": {"type": "string", "value": "robot.html"}}
    assert exps["dummy@Dummy experiments"]["instances"] == 1

    d.admin("instance add", "robot@Robot experiments", "robot1", "--url",
            "http://127.0.0.1:10039/weblab", "--api", "2")
    d.admin("instance add", "robot@Robot experiments", "robot2", "--url",
            "https://lab.example.org/robot/", "--transport", "http",
            "--resource", "arm1@robot_arm", "--auth-user", "weblab",
            "--auth-password", "s3cret", "--manages-polling")
    rows = d.db_query("SELECT instance_name, resource_instance, "
                      "resource_type, transport, url, api, auth_user, "
                      "auth_password, manages_polling FROM ExperimentInstance "
                      "WHERE instance_name LIKE 'robot%' ORDER BY "
                      "instance_name")
    assert rows == [
        ["robot1", "robot1", "robot_queue", "xmlrpc",
         "http://127.0.0.1:10039/weblab", "2", "", "", 0],
        ["robot2", "arm1", "robot_arm", "http",
         "https://lab.example.org/robot/", "", "weblab", "s3cret", 1]]
    listed = json.loads(d.admin("instance list", "--json").stdout)
    assert [i["instance"] for i in listed] == ["exp1", "robot1", "robot2"]
    assert "auth_password" not in listed[2]
    d.admin("instance remove", "robot@Robot experiments", "robot1")
    assert count(d, "ExperimentInstance") == 2
    d.admin("grant", "--user", "admin", "robot@Robot experiments", "--time",
            "30")
    d.admin("experiment remove", "robot@Robot experiments")
    assert count(d, "ExperimentInstance") == 1
    assert count(d, "UserPermission") == 0


def test_uses(deployment_factory):
    d = deployment_factory()
    d.admin("user add", "s1", "--password", "x")
    (exp_id,), = d.db_query("SELECT id FROM Experiment")
    for login, n, res in (("admin", 2, "r1"), ("s1", 3, "r2"),
                          ("s1", 0, "r3")):
        (uid,), = d.db_query('SELECT id FROM "User" WHERE login = ?', [login])
        d.db_exec("INSERT INTO UserUsedExperiment (user_id, experiment_id, "
                  "start_date, origin, coord_address, reservation_id, "
                  "end_date, finish_reason) VALUES (?, ?, ?, '127.0.0.1', "
                  "'exp1', ?, ?, 0)", [uid, exp_id, "2026-11-23T10:00:00",
                                       res, "2026-11-23T10:01:00"])
        (use_id,), = d.db_query("SELECT id FROM UserUsedExperiment WHERE "
                                "reservation_id = ?", [res])
        for cmd in ["@@@initial::request@@@", "@@@initial::response@@@"] + \
                ["cmd%d" % i for i in range(n)]:
            d.db_exec("INSERT INTO UserCommand (experiment_use_id, command, "
                      "response, timestamp_before) VALUES (?, ?, 'ok', 1.0)",
                      [use_id, cmd])
    uses = json.loads(d.admin("uses", "--json").stdout)
    assert [(u["login"], u["reservation_id"], u["commands"]) for u in uses] == [
        ("s1", "r3", 0), ("s1", "r2", 3), ("admin", "r1", 2)]
    assert uses[0]["experiment"] == "dummy@Dummy experiments"
    assert uses[0]["finish_reason"] == "finished"
    only = json.loads(d.admin("uses", "--user", "s1", "--limit", "1",
                              "--json").stdout)
    assert [u["reservation_id"] for u in only] == ["r3"]
    text = d.admin("uses").stdout
    assert text.splitlines()[0].split() == ["ID", "USER", "EXPERIMENT",
                                            "START", "END", "COMMANDS",
                                            "ORIGIN"]
    r = d.admin("user remove", "s1", check=False)
    assert err_line(r) == ("ERROR: user 's1' has 2 uses in the log, which are "
                           "kept: disable the user instead")


# ---------------------------------------------------------------- processes

def _listen(port, host="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(1)
    return s


def _pids_of(d):
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True,
                         text=True).stdout
    return [int(line.split()[0]) for line in out.splitlines()
            if str(d.path) in line and "weblab-admin" not in line]


@pytest.mark.parametrize("which", ["core", "lab"])
def test_start_with_port_taken(deployment_factory, which):
    d = deployment_factory()
    port = d.core_ports[0] if which == "core" else d.lab_ports[0]
    name = "core1" if which == "core" else "exp1"
    with _listen(port):
        r = d.start(check=False)
        assert r.returncode != 0
        assert err_line(r) == ("ERROR: port %d (%s) is already in use; "
                               "nothing was started" % (port, name))
        assert r.stdout == ""
        status = d.status()
        assert status["up"] is False
        assert all(p["pid"] is None for p in status["processes"])
    assert _pids_of(d) == []
    assert list(d.path.glob("run/*.pid")) == []


def test_status_of_a_stopped_deployment(deployment_factory):
    d = deployment_factory(copies=1, front=True)
    r = d.admin("status", check=False)
    assert r.returncode == 3
    processes, sizing, instances = r.stdout.split("\n\n")
    lines = processes.splitlines()
    assert lines[0].split() == ["NAME", "KIND", "PID", "PORT", "STATE"]
    # the httpds' sizing (test_mpm_* check the values)
    assert [l.split()[0] for l in sizing.splitlines()] == [
        "HTTPD", "core1", "front"]
    # the instances table follows (empty: no core has synced them yet)
    assert instances.splitlines()[0].split() == [
        "INSTANCE", "EXPERIMENT", "STATE", "HELD", "BY", "QUEUE"]
    assert [l.split()[0] for l in lines[1:]] == ["exp1", "core1", "front"]
    assert all(l.split()[-1] == "down" for l in lines[1:])
    assert d.stop().stdout.startswith("nothing of")


def _alive(pid):
    """The process exists and is not a zombie (init may reap late)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _uid_of(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return int(line.split()[1])


@needs_servers
def test_start_status_stop_cycle(deployment_factory):
    d = deployment_factory(copies=2)
    r = d.start()
    assert "started core1" in r.stdout and "started exp2" in r.stdout
    status = d.status()
    assert status["up"] is True
    procs = {p["name"]: p for p in status["processes"]}
    assert set(procs) == {"exp1", "exp2", "core1"}
    for p in procs.values():
        assert p["state"] == "up" and port_answers(p["port"])
        assert _alive(p["pid"])
        if os.geteuid() == 0:
            assert _uid_of(p["pid"]) == pwd.getpwnam("www-data").pw_uid
    assert procs["core1"]["port"] == d.core_ports[0]
    assert int(d.text("run/core1.pid")) == procs["core1"]["pid"]
    # one SQLite writer lock per database, flock files named by database
    assert "\nMutex flock weblab-sql-writer\n" in d.text("httpd/core1.conf")
    locks = sorted(p.name.rsplit(".", 1)[0]
                   for p in d.path.glob("run/weblab-sql-writer-*"))
    assert locks == ["weblab-sql-writer-coordination",
                     "weblab-sql-writer-data"], locks

    # the core answers the JSON API with the admin account
    st, body, _ = d.post_json("/weblab/login/json/", "login",
                              {"username": "admin", "password": "password"})
    assert st == 200 and body["is_exception"] is False, body

    # starting again starts nothing new
    r = d.start()
    assert "already running" in r.stdout
    assert d.status()["processes"] == status["processes"]

    # create --force refuses a running deployment
    r = run_admin("create", d.path, "--force")
    assert err_line(r).startswith("ERROR: the deployment in %s is running"
                                  % d.path)

    # a graceful restart keeps the pids and the ports
    r = d.admin("restart")
    assert "graceful restart of core1" in r.stdout
    assert d.status()["processes"] == status["processes"]

    r = d.stop()
    for name in ("core1", "exp1", "exp2"):
        assert "stopped %s" % name in r.stdout
    for p in procs.values():
        assert not _alive(p["pid"])
        assert not port_answers(p["port"])
    assert _pids_of(d) == []
    assert list(d.path.glob("run/*.pid")) == []
    assert d.status()["up"] is False
    if os.geteuid() == 0:     # the cores opened the databases as www-data
        assert all(os.stat(f).st_uid != 0 for f in d.path.glob("db/*"))


@needs_servers
def test_front_start_stop(deployment_factory):
    d = deployment_factory(front=True)
    d.start()
    assert d.status()["up"] is True
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open("http://127.0.0.1:%d/" % d.front_port, timeout=5)
        raise AssertionError("no redirect")
    except urllib.error.HTTPError as e:
        assert e.code == 302
        assert e.headers["Location"].endswith("/weblab/")
    st, body, headers = d.post_json("/weblab/login/json/", "login",
                                    {"username": "admin",
                                     "password": "password"}, core=0)
    assert st == 200 and body["is_exception"] is False, body
    cookies = headers.get_all("Set-Cookie") or []
    assert any(c.startswith("weblabsessionid=") and ".route1" in c
               for c in cookies), cookies
    d.stop()
    assert not port_answers(d.front_port)
    assert not port_answers(d.core_ports[0])


@needs_servers
def test_failed_start_shows_the_log_and_leaves_nothing(deployment_factory):
    d = deployment_factory(copies=1)
    conf = d.file("httpd/core1.conf")
    conf.write_text(conf.read_text().replace("WeblabPollTime 350",
                                             "WeblabPollTime soon"))
    r = d.start(check=False)
    assert r.returncode == 1
    assert r.stderr.startswith("ERROR: core1 (port %d) did not start"
                               % d.core_ports[0])
    assert "WeblabPollTime" in r.stderr
    assert _pids_of(d) == []
    assert d.status()["up"] is False
