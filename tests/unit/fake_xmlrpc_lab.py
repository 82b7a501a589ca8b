#!/usr/bin/python3
"""A fake WebLab-Deusto experiment server for tests/unit/test_lab_xmlrpc.c.

Standard library only. It listens on a free loopback port, prints
"PORT <n>" on stdout, and exits when its stdin closes (so it never outlives
the test). It answers XML-RPC POSTs the way an experiment server of the
configured API does (spec 4.4): calls with the wrong arguments for that API
fault, as a real Python server would with a TypeError. It records every
POST: connection number, path, query string, X-WebLab-Auth header, method,
argument types and values.

Control (plain GET, not recorded):
  /_config?key=value&...   change behaviour (keys: see DEFAULTS)
  /_reset                  clear the log, back to DEFAULTS
  /_log                    JSON {"calls": [...], "connections": N} where N
                           counts the distinct connections that carried
                           the recorded calls
"""
import http.server
import json
import os
import sys
import threading
import time
import urllib.parse
import xmlrpc.client

DEFAULTS = {
    "api": "2",             # "1", "2", "2_concurrent"
    "get_api": "answer",    # answer | fault | fault_once
    "fault_code": "int",    # int | str (voodoo.gen sends the type name)
    "fault_method": "",     # e.g. "Util.send_command_to_device": faults
    "should_finish": "int",  # int (5) | double (2.5) | negative (-1)
    "start_result": "json",  # json | nil
    "dispose_result": "json",  # json | nil
    "big_result": "0",      # send_command answers a string of this size
    "delay": "0",           # seconds to sleep before answering a POST
    "no_length": "0",       # 1: answer without Content-Length, then close
}
RPC_PATHS = ("/", "/RPC2", "/weblab", "/weblab/", "/weblab/xmlrpc",
             "/weblab/xmlrpc/")
START_JSON = '{"initial_configuration": "cfg", "batch": false}'
DISPOSE_JSON = '{"finished": true, "data": "bye"}'

# Argument types each API expects (spec 4.4).
SIGNATURES = {
    "1": {
        "Util.start_experiment": [],
        "Util.send_command_to_device": ["string"],
        "Util.send_file_to_device": ["string", "string"],
        "Util.dispose": [],
    },
    "2": {
        "Util.start_experiment": ["string", "string"],
        "Util.send_command_to_device": ["string"],
        "Util.send_file_to_device": ["string", "string"],
        "Util.should_finish": [],
        "Util.dispose": [],
    },
    "2_concurrent": {
        "Util.start_experiment": ["struct", "string", "string"],
        "Util.send_command_to_device": ["struct", "string"],
        "Util.send_file_to_device": ["struct", "string", "string"],
        "Util.should_finish": ["struct"],
        "Util.dispose": ["struct"],
    },
}


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.connections = 0
        self.reset()

    def reset(self):
        self.config = dict(DEFAULTS)
        self.calls = []
        self.get_api_calls = 0


STATE = State()


def type_name(value):
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "struct"
    if isinstance(value, (list, tuple)):
        return "array"
    return type(value).__name__


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"      # keep-alive, as the C client uses

    def setup(self):
        super().setup()
        with STATE.lock:
            STATE.connections += 1
            self.conn_id = STATE.connections

    def log_message(self, fmt, *args):
        pass

    def send_body(self, code, body, ctype, no_length=False):
        data = body.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        if no_length:       # the client learns the size only by reading
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        with STATE.lock:
            if url.path == "/_reset":
                STATE.reset()
                body = "ok"
            elif url.path == "/_config":
                for key, value in urllib.parse.parse_qsl(url.query):
                    if key not in DEFAULTS:
                        self.send_body(400, "unknown key " + key,
                                       "text/plain")
                        return
                    STATE.config[key] = value
                body = "ok"
            elif url.path == "/_log":
                conns = {c["conn"] for c in STATE.calls}
                body = json.dumps({"calls": STATE.calls,
                                   "connections": len(conns)})
            else:
                self.send_body(404, "no such control", "text/plain")
                return
        self.send_body(200, body, "text/plain")

    def fault(self, code, message):
        if STATE.config["fault_code"] == "str":
            code = "NotImplementedError"    # voodoo.gen sends the type name
        return xmlrpc.client.dumps(xmlrpc.client.Fault(code, message),
                                   methodresponse=True)

    def answer(self, method, params, path_and_query):
        cfg = STATE.config
        api = cfg["api"]
        if method == "Util.get_api":
            STATE.get_api_calls += 1
            mode = cfg["get_api"]
            if mode == "fault" or (mode == "fault_once"
                                   and STATE.get_api_calls == 1):
                return self.fault(1, "method Util.get_api is not supported")
            return (api,)
        if method == "Util.test_me":
            return (params[0],)
        if method == cfg["fault_method"]:
            # voodoo.gen style: the exception's repr(args), and where.
            return self.fault(42, "lab exploded at %s with %r"
                              % (path_and_query, params))
        expected = SIGNATURES.get(api, {}).get(method)
        if expected is None:
            return self.fault(1, "method %s is not supported under API %s"
                              % (method, api))
        types = [type_name(p) for p in params]
        if types != expected:
            return self.fault(2, "bad arguments for %s under API %s: %s"
                              % (method, api, types))
        if api == "2_concurrent" and list(params[0].keys()) != ["id"]:
            return self.fault(2, "the session struct must be {'id': ...}")
        if method == "Util.start_experiment":
            if api == "1":
                return ("ignored by an API 1 client",)
            return (None if cfg["start_result"] == "nil" else START_JSON,)
        if method == "Util.send_command_to_device":
            size = int(cfg["big_result"])
            if size:
                return ("x" * size,)
            return ("echo:" + params[-1],)
        if method == "Util.send_file_to_device":
            return ("file:%d:%s" % (len(params[-2]), params[-1]),)
        if method == "Util.should_finish":
            return ({"int": 5, "double": 2.5,
                     "negative": -1}[cfg["should_finish"]],)
        if method == "Util.dispose":
            return (None if cfg["dispose_result"] == "nil" else DISPOSE_JSON,)
        return self.fault(1, "unhandled " + method)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        url = urllib.parse.urlsplit(self.path)
        try:
            params, method = xmlrpc.client.loads(body, use_builtin_types=True)
        except Exception as exc:            # not XML-RPC: a 400, recorded
            params, method = (), "<unparsable: %s>" % exc
        with STATE.lock:
            STATE.calls.append({
                "conn": self.conn_id,
                "path": url.path,
                "query": url.query,
                "x_weblab_auth": self.headers.get("X-WebLab-Auth"),
                "content_type": self.headers.get("Content-Type"),
                "method": method,
                "types": [type_name(p) for p in params],
                "args": list(params),
            })
            delay = float(STATE.config["delay"])
            no_length = STATE.config["no_length"] == "1"
            if url.path not in RPC_PATHS:
                result = None
            elif method.startswith("<unparsable"):
                result = False
            else:
                result = self.answer(method, params, self.path)
        if delay:
            time.sleep(delay)
        if result is None:
            self.send_body(404, "no XML-RPC here", "text/plain")
        elif result is False:
            self.send_body(400, "bad XML-RPC", "text/plain")
        elif isinstance(result, str):
            self.send_body(200, result, "text/xml")
        else:
            self.send_body(200, xmlrpc.client.dumps(
                result, methodresponse=True, allow_none=True), "text/xml",
                no_length)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass        # a client that timed out and left: expected here


def main():
    server = Server(("127.0.0.1", 0), Handler)
    print("PORT %d" % server.server_address[1], flush=True)

    def watch_stdin():
        sys.stdin.read()                    # returns at EOF
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
