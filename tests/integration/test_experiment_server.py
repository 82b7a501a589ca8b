"""Integration tests of experiment_server: the real binary on loopback,
driven over the WebLab-Deusto experiment-server protocol (XML-RPC Util.*)
with Python's xmlrpc.client, and over raw HTTP where the protocol edges
matter.

Run: /usr/bin/python3 -m pytest -q tests/integration/test_experiment_server.py
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import xmlrpc.client

import pytest

from conftest import TOP_BUILDDIR, TOP_SRCDIR, find_free_port

BINARY = TOP_BUILDDIR / "experiment_server" / "experiment_server"
SID_A = "abcdefghijklmnop"      # 16 chars, like the original's ids
SID_B = "ponmlkjihgfedcba"

FAULT_PARSE = -32700
FAULT_NO_METHOD = -32601
FAULT_PARAMS = -32602
FAULT_LAB = -32500
FAULT_AUTH = -32001
FAULT_SESSION = -32002


@pytest.fixture(scope="session", autouse=True)
def built():
    if not os.access(BINARY, os.X_OK):
        pytest.fail("%s is not built; run: make experiment_server/"
                    "experiment_server" % BINARY)


@pytest.fixture
def es(daemon_factory, free_port):
    """start(*options) -> (Daemon, url): experiment_server on a free port."""
    def start(*options):
        d = daemon_factory([BINARY, "--port", free_port] + list(options),
                           free_port, name="experiment_server")
        return d, "http://127.0.0.1:%d" % free_port
    return start


def proxy(url, path="/weblab", **kw):
    return xmlrpc.client.ServerProxy(url + path, allow_none=True, **kw)


def fault_of(call, *args):
    with pytest.raises(xmlrpc.client.Fault) as e:
        call(*args)
    return e.value


def raw_http(port, data, read_until_close=True, timeout=5.0):
    """Send bytes, return everything the server answers until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                break
            if not b:
                break
            chunks.append(b)
            if not read_until_close:
                break
        return b"".join(chunks)


def recv_answer(sock):
    """Read one XML-RPC answer from a keep-alive socket."""
    data = b""
    while b"</methodResponse>" not in data:
        b = sock.recv(65536)
        if not b:
            break
        data += b
    return data


def xml_call(method, *params):
    return xmlrpc.client.dumps(params, method, allow_none=True).encode()


def post(body, path="/RPC2", extra=b""):
    return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: text/xml\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body)


def port_of(url):
    return int(url.rsplit(":", 1)[1])


# ---- methods, per API ----

@pytest.mark.parametrize("api", ["1", "2", "2_concurrent"])
def test_get_api_answers_configured_api(es, api):
    _, url = es("--api", api)
    s = proxy(url)
    assert s.Util.get_api() == api
    assert s.get_api() == api           # the prefix is optional


def test_default_api_is_2(es):
    _, url = es()
    assert proxy(url).Util.get_api() == "2"


def test_test_me_echoes(es):
    _, url = es()
    s = proxy(url)
    assert s.Util.test_me("0.8231512378") == "0.8231512378"
    assert s.test_me("héllo <&> wörld") == "héllo <&> wörld"


def test_is_up_and_running(es):
    _, url = es()
    assert proxy(url).Util.is_up_and_running() == [600, ""]


def test_api1_cycle(es):
    _, url = es("--api", "1")
    s = proxy(url)
    assert s.Util.start_experiment() == "{}"
    assert s.Util.send_command_to_device("hello") == "Received command: hello"
    assert (s.Util.send_file_to_device("aGVsbG8=", "program.bit")
            == "Received file with len: 8 and file_info: program.bit")
    assert s.Util.should_finish() == 0
    assert json.loads(s.Util.dispose()) == {"finished": True}


def test_api1_start_is_lenient_on_arity(es):
    """An API 1 server sent the API 2 arguments takes them, as the
    original's start_experiment(*args) servers did."""
    _, url = es("--api", "1")
    assert proxy(url).Util.start_experiment("{}", "{}") == "{}"


def test_api2_cycle(es):
    _, url = es("--api", "2")
    s = proxy(url)
    cid = json.dumps({"back": "http://localhost/weblab/back"})
    sid = json.dumps({"request.username": "student1",
                      "priority.queue.slot.length": "200"})
    assert json.loads(s.Util.start_experiment(cid, sid)) == {}
    assert s.Util.send_command_to_device("ON 1") == "Received command: ON 1"
    assert (s.Util.send_file_to_device("QUJD", "info")
            == "Received file with len: 4 and file_info: info")
    assert s.Util.should_finish() == 0
    assert json.loads(s.Util.dispose()) == {"finished": True}


def test_api2_start_without_arguments_is_accepted(es):
    _, url = es()
    assert proxy(url).Util.start_experiment() == "{}"


def test_api2_new_start_replaces_the_session(es):
    _, url = es()
    s = proxy(url)
    s.Util.start_experiment("{}", "{}")
    s.Util.send_command_to_device("a")
    s.Util.send_command_to_device("b")
    assert "3 commands" in s.Util.send_command_to_device("server_info")
    s.Util.start_experiment("{}", "{}")
    assert "1 commands" in s.Util.send_command_to_device("server_info")


def test_api2_file_as_xmlrpc_base64(es):
    """Bytes sent as <base64> reach the lab as base64 text."""
    _, url = es()
    s = proxy(url)
    answer = s.Util.send_file_to_device(xmlrpc.client.Binary(b"hello"), "f")
    assert answer == "Received file with len: 8 and file_info: f"


def test_api2_large_file(es):
    """Over xmlrpc-c's default 512 KiB document limit, under ours."""
    _, url = es()
    content = "A" * (2 * 1024 * 1024)
    answer = proxy(url).Util.send_file_to_device(content, "big")
    assert answer == ("Received file with len: %d and file_info: big"
                      % len(content))


@pytest.mark.parametrize("method,args", [
    ("send_command_to_device", ()),
    ("send_command_to_device", ("a", "b")),
    ("send_file_to_device", ("only content",)),
    ("dispose", ("extra",)),
    ("should_finish", (1,)),
    ("start_experiment", ("{}", "{}", "{}")),
    ("get_api", ("x",)),
    ("test_me", ()),
])
def test_api2_wrong_arity_is_a_fault(es, method, args):
    _, url = es()
    f = fault_of(getattr(proxy(url).Util, method), *args)
    assert f.faultCode == FAULT_PARAMS
    assert method in f.faultString
    assert "got %d" % len(args) in f.faultString


@pytest.mark.parametrize("method,args", [
    ("send_command_to_device", (42,)),
    ("send_command_to_device", ({"a": 1},)),
    ("send_file_to_device", ("QUJD", 3.5)),
    ("start_experiment", (1, "{}")),
])
def test_wrong_argument_type_is_a_fault(es, method, args):
    _, url = es()
    f = fault_of(getattr(proxy(url).Util, method), *args)
    assert f.faultCode == FAULT_PARAMS
    assert "must be a string" in f.faultString


def test_unknown_method_is_a_fault(es):
    _, url = es()
    s = proxy(url)
    f = fault_of(s.Util.reserve_experiment)
    assert f.faultCode == FAULT_NO_METHOD
    assert "Util.reserve_experiment" in f.faultString
    assert fault_of(s.Other.test_me, "x").faultCode == FAULT_NO_METHOD


# ---- 2_concurrent ----

@pytest.mark.parametrize("as_struct", [True, False])
def test_concurrent_cycle(es, as_struct):
    _, url = es("--api", "2_concurrent")
    s = proxy(url)
    sid = {"id": SID_A} if as_struct else SID_A
    assert s.Util.start_experiment(sid, "{}", "{}") == "{}"
    assert (s.Util.send_command_to_device(sid, "hi")
            == "Received command: hi")
    assert (s.Util.send_file_to_device(sid, "QUJD", "i")
            == "Received file with len: 4 and file_info: i")
    assert s.Util.should_finish(sid) == 0
    assert json.loads(s.Util.dispose(sid)) == {"finished": True}
    f = fault_of(s.Util.send_command_to_device, sid, "after dispose")
    assert f.faultCode == FAULT_SESSION


def test_concurrent_sessions_are_separate(es):
    _, url = es("--api", "2_concurrent")
    s = proxy(url)
    s.Util.start_experiment({"id": SID_A}, "{}", "{}")
    s.Util.start_experiment(SID_B, "{}", "{}")     # the two forms mixed
    s.Util.send_command_to_device(SID_A, "1")
    s.Util.send_command_to_device({"id": SID_A}, "2")
    s.Util.send_file_to_device({"id": SID_B}, "QUJD", "f")
    assert ("3 commands, 0 files"
            in s.Util.send_command_to_device(SID_A, "server_info"))
    assert ("1 commands, 1 files"
            in s.Util.send_command_to_device({"id": SID_B}, "server_info"))
    s.Util.dispose(SID_A)
    assert fault_of(s.Util.send_command_to_device, SID_A,
                    "x").faultCode == FAULT_SESSION
    assert "2 commands" in s.Util.send_command_to_device(SID_B,
                                                         "server_info")


def test_concurrent_unknown_session(es):
    """After a restart the laboratory server may name a session we never
    saw: commands fault, should_finish says finish now, dispose is done."""
    _, url = es("--api", "2_concurrent")
    s = proxy(url)
    assert fault_of(s.Util.send_file_to_device, SID_A, "QUJD",
                    "i").faultCode == FAULT_SESSION
    assert s.Util.should_finish({"id": SID_A}) == -1
    assert json.loads(s.Util.dispose(SID_A)) == {"finished": True,
                                                 "data": ""}


@pytest.mark.parametrize("bad_id", [{"notid": SID_A}, {"id": 5}, "", 12,
                                    ["x"]])
def test_concurrent_bad_session_id(es, bad_id):
    _, url = es("--api", "2_concurrent")
    f = fault_of(proxy(url).Util.start_experiment, bad_id, "{}", "{}")
    assert f.faultCode == FAULT_PARAMS
    assert "lab session id" in f.faultString


def test_concurrent_arity(es):
    _, url = es("--api", "2_concurrent")
    s = proxy(url)
    for call, args in [(s.Util.start_experiment, ()),
                       (s.Util.send_command_to_device, ("cmd",)),
                       (s.Util.send_file_to_device, (SID_A, "QUJD")),
                       (s.Util.should_finish, ()),
                       (s.Util.dispose, ())]:
        assert fault_of(call, *args).faultCode == FAULT_PARAMS
    # start with only the session id: initial data default to "{}"
    assert s.Util.start_experiment({"id": SID_A}) == "{}"


# ---- the dummy_batch lab ----

def test_dummy_batch_lab(es):
    _, url = es("--lab", "dummy_batch")
    s = proxy(url)
    start = json.loads(s.Util.start_experiment("{}", "{}"))
    assert start == {"initial_configuration": "this will be batch",
                     "batch": True}
    assert s.Util.send_command_to_device("x") == "Received command: x"
    assert s.Util.should_finish() == 0
    assert json.loads(s.Util.dispose()) == {"finished": True,
                                            "data": "This is the final data"}


# ---- authentication ----

def test_auth_token(es):
    d, url = es("--auth", "s3cr3t-token")
    f = fault_of(proxy(url).Util.test_me, "x")
    assert f.faultCode == FAULT_AUTH
    f = fault_of(proxy(url, "/weblab?auth=wrong").Util.test_me, "x")
    assert f.faultCode == FAULT_AUTH
    f = fault_of(proxy(url, "/weblab?auth=s3cr3t-token-longer").test_me, "x")
    assert f.faultCode == FAULT_AUTH
    f = fault_of(proxy(url, "/?auth=").test_me, "x")
    assert f.faultCode == FAULT_AUTH
    assert proxy(url, "/weblab?auth=s3cr3t-token").Util.test_me("x") == "x"
    assert proxy(url, "/RPC2?a=1&auth=s3cr3t%2Dtoken").test_me("y") == "y"
    hdr = proxy(url, "/", headers=[("X-WebLab-Auth", "s3cr3t-token")])
    assert hdr.Util.get_api() == "2"
    bad = proxy(url, "/", headers=[("X-WebLab-Auth", "nope")])
    assert fault_of(bad.Util.get_api).faultCode == FAULT_AUTH
    assert "s3cr3t" not in d.log_text()


def test_no_auth_configured_accepts_any_token(es):
    _, url = es()
    assert proxy(url, "/weblab?auth=whatever").test_me("z") == "z"


@pytest.mark.parametrize("path", ["/", "/RPC2", "/weblab", "/weblab/",
                                  "/weblab/xmlrpc", "/weblab/xmlrpc/",
                                  "/any/thing"])
def test_any_path_is_accepted(es, path):
    _, url = es()
    assert proxy(url, path).Util.test_me(path) == path


# ---- malformed input, limits, HTTP ----

@pytest.mark.parametrize("body", [
    b"<methodCall><methodName>Util.test_me</methodName>",
    b"this is not xml",
    b"",
    b"<methodResponse><params/></methodResponse>",
    b"<?xml version='1.0'?><methodCall><methodName>x</methodName>"
    b"<params><param><value><int>notanint</int></value></param></params>"
    b"</methodCall>",
    b"<methodCall><methodName>Util.test_me</methodName><params><param>"
    + b"<value><array><data>" * 200 + b"</data></array></value>" * 200
    + b"</param></params></methodCall>",
])
def test_malformed_xml_is_a_fault(es, body):
    d, url = es()
    answer = raw_http(port_of(url), post(body, extra=b"Connection: close\r\n"))
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    f = fault_from_http(answer)
    assert f.faultCode == FAULT_PARSE
    assert proxy(url).Util.test_me("alive") == "alive"


def fault_from_http(answer):
    body = answer.split(b"\r\n\r\n", 1)[1]
    with pytest.raises(xmlrpc.client.Fault) as e:
        xmlrpc.client.loads(body.decode())
    return e.value


def test_oversize_content_length_is_refused_before_reading(es):
    _, url = es()
    head = (b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\n"
            b"Content-Length: 16777217\r\n\r\n")
    answer = raw_http(port_of(url), head + b"<methodCall>")
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b"Connection: close" in answer
    # 16 MiB itself is allowed (the server waits for the body)
    with socket.create_connection(("127.0.0.1", port_of(url))) as s:
        s.sendall(head.replace(b"16777217", b"16777216"))
        s.settimeout(0.5)
        with pytest.raises(socket.timeout):
            s.recv(100)
    assert proxy(url).Util.test_me("alive") == "alive"


@pytest.mark.parametrize("request_bytes,status", [
    (b"POST / HTTP/1.1\r\nHost: x\r\n\r\n", b"411"),
    (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"5\r\nhello\r\n0\r\n\r\n", b"411"),
    (b"POST / HTTP/1.1\r\nContent-Length: 12x\r\n\r\n", b"400"),
    (b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
     b"400"),
    (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"405"),
    (b"POST / HTTP/2.0\r\nContent-Length: 0\r\n\r\n", b"505"),
    (b"garbage\r\n\r\n", b"400"),
    (b"POST / HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", b"431"),
    (b"POST / HTTP/1.1\r\nContent-Length: 1\r\nExpect: magic\r\n\r\nx",
     b"417"),
])
def test_http_errors(es, request_bytes, status):
    _, url = es()
    answer = raw_http(port_of(url), request_bytes)
    assert answer.startswith(b"HTTP/1.1 " + status + b" "), answer[:200]
    assert proxy(url).Util.test_me("alive") == "alive"


def test_keep_alive_two_calls_on_one_connection(es):
    _, url = es()
    conn = http.client.HTTPConnection("127.0.0.1", port_of(url), timeout=5)
    conn.request("POST", "/RPC2", xml_call("Util.test_me", "one"),
                 {"Content-Type": "text/xml"})
    r1 = conn.getresponse()
    body1 = r1.read()
    sock1 = conn.sock
    assert r1.status == 200 and r1.getheader("Connection") is None
    conn.request("POST", "/weblab", xml_call("Util.get_api"),
                 {"Content-Type": "text/xml"})
    r2 = conn.getresponse()
    body2 = r2.read()
    assert conn.sock is sock1 and sock1 is not None   # not reopened
    assert xmlrpc.client.loads(body1.decode())[0] == ("one",)
    assert xmlrpc.client.loads(body2.decode())[0] == ("2",)
    conn.close()


def test_connection_close_is_honoured(es):
    _, url = es()
    answer = raw_http(port_of(url),
                      post(xml_call("test_me", "x"),
                           extra=b"Connection: close\r\n"))
    assert b"Connection: close\r\n" in answer      # and then it closed
    assert xmlrpc.client.loads(answer.split(b"\r\n\r\n", 1)[1].decode())[0] \
        == ("x",)


def test_http10_closes_unless_keep_alive(es):
    _, url = es()
    body = xml_call("test_me", "x")
    req = post(body).replace(b"HTTP/1.1", b"HTTP/1.0")
    answer = raw_http(port_of(url), req)
    assert answer.count(b"HTTP/1.1 200 OK") == 1
    req = (post(body, extra=b"Connection: keep-alive\r\n")
           .replace(b"HTTP/1.1", b"HTTP/1.0"))
    with socket.create_connection(("127.0.0.1", port_of(url)), 5) as s:
        s.sendall(req)
        first = recv_answer(s)
        assert b"Connection: keep-alive" in first
        s.sendall(req)
        assert recv_answer(s).startswith(b"HTTP/1.1 200 OK")


def test_pipelined_requests(es):
    _, url = es()
    reqs = (post(xml_call("Util.test_me", "first"))
            + post(xml_call("Util.test_me", "second"),
                   extra=b"Connection: close\r\n"))
    answer = raw_http(port_of(url), reqs)
    assert answer.count(b"HTTP/1.1 200 OK") == 2
    assert answer.index(b"first") < answer.index(b"second")


def test_expect_100_continue(es):
    _, url = es()
    body = xml_call("Util.test_me", "continued")
    head = (b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n"
            b"Connection: close\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port_of(url)), 5) as s:
        s.sendall(head)
        assert s.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(body)
        answer = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            answer += b
    assert answer.startswith(b"HTTP/1.1 200 OK") and b"continued" in answer


def test_request_split_in_many_segments(es):
    _, url = es()
    req = post(xml_call("Util.test_me", "slow"),
               extra=b"Connection: close\r\n")
    with socket.create_connection(("127.0.0.1", port_of(url)), 5) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for i in range(0, len(req), 7):
            s.sendall(req[i:i + 7])
            time.sleep(0.001)
        answer = b""
        while True:
            b = s.recv(65536)
            if not b:
                break
            answer += b
    assert answer.startswith(b"HTTP/1.1 200 OK") and b"slow" in answer


def test_answer_in_one_write_is_fast(es):
    """Headers and body go out in one write with TCP_NODELAY; two writes
    would cost ~40 ms per call against delayed ACKs (spec 10.2)."""
    _, url = es()
    req = post(xml_call("Util.send_command_to_device", "x"))
    with socket.create_connection(("127.0.0.1", port_of(url)), 5) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        times = []
        for _ in range(31):
            t0 = time.monotonic()
            s.sendall(req)
            assert b"Received command: x" in recv_answer(s)
            times.append(time.monotonic() - t0)
    median = sorted(times)[len(times) // 2]
    assert median < 0.020, "median %.1f ms per call" % (median * 1000)


def test_garbage_never_crashes(es):
    d, url = es()
    port = port_of(url)
    junk = [b"\x00" * 100, b"\r\n" * 50, b"POST", os.urandom(3000),
            b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n<",
            b"POST / HTTP/1.1\r\n: x\r\n\r\n",
            b"POST / HTTP/1.1\r\n folded\r\n\r\n"]
    for j in junk:
        with socket.create_connection(("127.0.0.1", port), 5) as s:
            s.sendall(j)
    assert d.running()
    assert proxy(url).Util.test_me("alive") == "alive"


# ---- process: logs, signals, pid file, errors ----

def test_sigterm_exits_cleanly_and_removes_pid_file(es, tmp_path):
    pid_file = tmp_path / "es.pid"
    d, url = es("--pid-file", pid_file)
    assert int(pid_file.read_text()) == d.pid
    # an open session is disposed on the way out
    proxy(url).Util.start_experiment("{}", "{}")
    assert d.stop(signal.SIGTERM) == 0
    assert not pid_file.exists()
    log = d.log_text()
    assert "disposing 1 open session" in log and "stopped" in log
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port_of(url)), 1).close()


def test_sigint_exits_cleanly(es):
    d, _ = es()
    assert d.stop(signal.SIGINT) == 0


def test_taken_port_is_one_clear_line(tmp_path):
    port = find_free_port()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", port))
        busy.listen(1)
        r = subprocess.run([str(BINARY), "--port", str(port), "--pid-file",
                            str(tmp_path / "p.pid")], capture_output=True,
                           text=True, timeout=10)
    assert r.returncode == 1
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "127.0.0.1:%d" % port in lines[0]
    assert "Address already in use" in lines[0]
    assert not (tmp_path / "p.pid").exists()


@pytest.mark.parametrize("args,status,text", [
    ([], 2, "--port is required"),
    (["--port", "x"], 2, "--port must be a number"),
    (["--port", "99999"], 2, "--port must be a number"),
    (["--port", "1", "--api", "3"], 2, "--api must be 1, 2 or 2_concurrent"),
    (["--port", "1", "--bogus"], 2, "unknown option --bogus"),
    (["--port", "1", "--lab", "nosuchlab"], 1, "unknown lab 'nosuchlab'"),
    (["--port", "1", "--lab-module", "/nonexistent.so"], 1,
     "cannot load lab module"),
    (["--port", "1", "--log-file", "/nonexistent/dir/log"], 1,
     "cannot open log file"),
])
def test_command_line_errors(args, status, text):
    r = subprocess.run([str(BINARY)] + args, capture_output=True, text=True,
                       timeout=10)
    assert r.returncode == status
    assert text in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_help_lists_options_and_labs():
    r = subprocess.run([str(BINARY), "--help"], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 0
    for word in ["--bind", "--port", "--lab", "--lab-module", "--api",
                 "--auth", "--pid-file", "--log-file", "--verbose", "dummy",
                 "dummy_batch"]:
        assert word in r.stdout


def test_docs_cover_every_option():
    """docs/experiment-server.md documents every option --help shows."""
    r = subprocess.run([str(BINARY), "--help"], capture_output=True,
                       text=True, timeout=10)
    opts = {w.rstrip(",") for w in r.stdout.split() if w.startswith("--")}
    assert len(opts) >= 10
    doc = (TOP_SRCDIR / "docs" / "experiment-server.md").read_text()
    missing = [o for o in opts if "`" + o not in doc]
    assert not missing, "undocumented options: %s" % missing


def test_verbose_log_file_lines_without_contents(es, tmp_path):
    log = tmp_path / "es.log"
    d, url = es("-v", "--log-file", log)
    s = proxy(url)
    s.Util.send_command_to_device("SECRET-COMMAND")
    s.Util.send_file_to_device("U0VDUkVULUZJTEU=", "SECRET-INFO")
    fault_of(s.Util.nope)
    text = log.read_text()
    assert "listening on 127.0.0.1:%d" % port_of(url) in text
    assert "call Util.send_command_to_device args=1 -> " in text
    assert "call Util.send_file_to_device args=2 -> " in text
    assert "call Util.nope args=0 -> fault -32601" in text
    assert "SECRET" not in text and "U0VDUkVU" not in text
    # SIGHUP reopens the file (after a rotation)
    log.rename(tmp_path / "es.log.1")
    d.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while not log.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    s.Util.test_me("after rotation")
    assert "call Util.test_me" in log.read_text()


def test_quiet_without_verbose(es, tmp_path):
    log = tmp_path / "es.log"
    _, url = es("--log-file", log)
    proxy(url).Util.send_command_to_device("x")
    assert "call " not in log.read_text()


def test_bind_ipv6_loopback(daemon_factory):
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        with socket.socket(socket.AF_INET6) as t:
            t.bind(("::1", 0))
            port = t.getsockname()[1]
    except OSError:
        pytest.skip("no IPv6 loopback")
    daemon_factory([BINARY, "--bind", "::1", "--port", port], port,
                   host="::1")
    s = xmlrpc.client.ServerProxy("http://[::1]:%d/" % port)
    assert s.Util.test_me("v6") == "v6"


# ---- a lab in one C file, loaded with --lab-module ----

LAB_C = r'''
#include "weblab_lab_plugin.h"
#include <apr_strings.h>

static apr_status_t echo_command(const char **response,
                                 weblab_lab_plugin_session_t *session,
                                 const char *command, apr_pool_t *p)
{
    if (command[0] == '!') {
        *response = "the lab refuses commands starting with !";
        return APR_EINVAL;
    }
    *response = apr_pstrcat(p, "module says: ", command, NULL);
    return APR_SUCCESS;
}

static apr_status_t echo_up(int *seconds, const char **message,
                            void *lab_ctx, apr_pool_t *p)
{
    *seconds = -1;
    *message = "camera unplugged";
    return APR_SUCCESS;
}

const weblab_lab_plugin_t weblab_lab_plugin_module = {
    .abi_version = WEBLAB_LAB_PLUGIN_ABI,
    .name = "echo",
    .description = "test lab",
    .command = echo_command,
    .is_up_and_running = echo_up,
};
'''


def test_lab_module(es, tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc")
    apr_config = shutil.which("apr-1-config")
    if not cc or not apr_config:
        pytest.skip("needs cc and apr-1-config")
    src = tmp_path / "lab_echo.c"
    src.write_text(LAB_C)
    so = tmp_path / "lab_echo.so"
    cflags = subprocess.run([apr_config, "--includes", "--cppflags"],
                            capture_output=True, text=True).stdout.split()
    subprocess.run([cc, "-shared", "-fPIC", "-Wall", "-Werror", "-o", str(so),
                    str(src), "-I", str(TOP_SRCDIR / "experiment_server")]
                   + cflags, check=True)
    _, url = es("--lab-module", so, "--api", "1")
    s = proxy(url)
    assert s.Util.send_command_to_device("hi") == "module says: hi"
    f = fault_of(s.Util.send_command_to_device, "!boom")
    assert f.faultCode == FAULT_LAB
    assert f.faultString == "the lab refuses commands starting with !"
    # slots left NULL get the original's defaults
    assert s.Util.start_experiment() == "{}"
    assert s.Util.should_finish() == 0
    assert s.Util.is_up_and_running() == [-1, "camera unplugged"]
    f = fault_of(s.Util.send_file_to_device, "QUJD", "x")
    assert f.faultCode == FAULT_LAB
    assert "not been implemented" in f.faultString
    assert json.loads(s.Util.dispose()) == {"finished": True, "data": ""}
