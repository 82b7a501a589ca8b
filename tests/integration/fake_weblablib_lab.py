#!/usr/bin/python3
"""A small unmanaged lab speaking the weblablib HTTP protocol (spec 4.5,
10.3), written from the spec with Python's standard library only. Used by
tests/unit/test_lab_weblablib.c and by integration tests.

    fake_weblablib_lab.py [--port N] [--user U] [--password P]
                          [--public-url URL] [--record FILE] [--ignore-stdin]

It listens on 127.0.0.1 (port 0: a free one), prints "PORT <n>" on stdout,
and exits when its stdin closes (so it never outlives its parent) unless
--ignore-stdin is given.

WebLab-facing endpoints, as weblablib serves them:
  GET  /weblab/sessions/api            {"api_version": "1"} (no auth needed)
  GET  /weblab/sessions/test           {"valid": true}, or 401 with
                                       {"valid": false, "error_messages": [..]}
  POST /weblab/sessions/               JSON {"back", "client_initial_data",
                                       "server_initial_data"} (both objects;
                                       weblablib's required server keys are
                                       checked: a missing one is a 500, as
                                       Flask answers a KeyError)
                                       -> {"url": "<public>/callback/<sid>",
                                           "session_id": "<sid>"}
  GET  /weblab/sessions/<sid>/status   {"should_finish": n} (-1 once the
                                       session is gone or unknown)
  POST /weblab/sessions/<sid>          {"action": "delete"} -> {"message":
                                       "Deleted"} | "Not found" | "Unknown op"
Every other /weblab/ request without the right Basic credentials gets 401
"You don't seem to be a WebLab-Instance", as weblablib answers.

Student-facing pages:
  GET /callback/<sid>                  302 to /lab/ with a session cookie
                                       (404 for an unknown session)
  GET /lab/                            a small HTML page naming the user

Debug endpoints (plain GET, no auth, not recorded):
  /_debug/log                 JSON {"requests": [...], "sessions": {...},
                              "connections": N}
  /_debug/reset               clear the record and the sessions; defaults
  /_debug/config?key=value    change behaviour (keys: see DEFAULTS)

Each recorded request: method, path, query, the Authorization, Accept and
Content-Type headers, whether the credentials were right, the raw body and
the body parsed as JSON (or null), the connection number. With --record
FILE the same JSON is rewritten to FILE after every recorded request.
"""
import argparse
import base64
import html
import http.server
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse

DEFAULTS = {
    "should_finish": "5",   # the number status answers for a live session
    "start": "ok",          # ok | error (on_start failed) | no_session_id
                            # | no_url | not_json | long_session_id
    "dispose": "json",      # json | ok | empty | deleted | finished_data
    "fail": "",             # path suffix ("api", "test", "status", "",
                            # "<sid>"...) answered with HTTP 500
    "not_json": "",         # path suffix answered with an HTML page
    "echo_secrets": "0",    # 1: error pages quote the credentials and path
    "delay": "0",           # seconds to sleep before answering /weblab/
}
# What weblablib reads from server_initial_data (views.py).
REQUIRED_SERVER_KEYS = (
    "priority.queue.slot.length",
    "request.username",
    "request.username.unique",
    "request.full_name",
    "request.experiment_id.experiment_name",
    "request.experiment_id.category_name",
)
PREFIX = "/weblab/sessions/"


class State:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.connections = 0
        self.reset()

    def reset(self):
        self.config = dict(DEFAULTS)
        self.requests = []
        self.sessions = {}

    def dump(self):
        conns = {r["conn"] for r in self.requests}
        return {"requests": self.requests, "sessions": self.sessions,
                "connections": len(conns)}

    def save(self):
        if not self.args.record:
            return
        tmp = self.args.record + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.dump(), f)
        os.replace(tmp, self.args.record)


STATE = None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"      # keep-alive, as the C client uses

    def setup(self):
        super().setup()
        with STATE.lock:
            STATE.connections += 1
            self.conn_id = STATE.connections

    def log_message(self, fmt, *args):
        pass

    def send(self, code, body, ctype="application/json", headers=()):
        data = body.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def send_json(self, code, obj, headers=()):
        self.send(code, json.dumps(obj) + "\n", "application/json", headers)

    def credentials(self):
        auth = self.headers.get("Authorization") or ""
        if not auth.startswith("Basic "):
            return None, None
        try:
            user, _, password = base64.b64decode(
                auth[6:]).decode("utf-8").partition(":")
        except Exception:
            return None, None
        return user, password

    # ---- GET ----

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path.startswith("/_debug/"):
            return self.debug(url)
        if url.path.startswith("/callback/"):
            return self.callback(url.path[len("/callback/"):])
        if url.path == "/lab/":
            return self.lab_page()
        return self.weblab("GET", url, b"")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        return self.weblab("POST", urllib.parse.urlsplit(self.path), body)

    def debug(self, url):
        with STATE.lock:
            if url.path == "/_debug/reset":
                STATE.reset()
                return self.send(200, "ok", "text/plain")
            if url.path == "/_debug/config":
                for key, value in urllib.parse.parse_qsl(
                        url.query, keep_blank_values=True):
                    if key not in DEFAULTS:
                        return self.send(400, "unknown key " + key,
                                         "text/plain")
                    STATE.config[key] = value
                return self.send(200, "ok", "text/plain")
            if url.path == "/_debug/log":
                return self.send_json(200, STATE.dump())
        return self.send(404, "no such debug page", "text/plain")

    def callback(self, sid):
        with STATE.lock:
            session = STATE.sessions.get(sid)
            live = session is not None and not session["deleted"]
        if not live:
            return self.send(404, "<p>no such session</p>", "text/html")
        return self.send(302, "", "text/html",
                         [("Location", "/lab/"),
                          ("Set-Cookie", "fakelab=%s; Path=/; HttpOnly"
                           % sid)])

    def lab_page(self):
        sid = ""
        for part in (self.headers.get("Cookie") or "").split(";"):
            name, _, value = part.strip().partition("=")
            if name == "fakelab":
                sid = value
        with STATE.lock:
            session = STATE.sessions.get(sid)
            user = session and not session["deleted"] and session["username"]
        if not user:
            return self.send(403, "<p>not logged in</p>", "text/html")
        return self.send(200, "<html><body><h1>Fake lab</h1><p id=user>%s"
                         "</p></body></html>" % html.escape(user),
                         "text/html")

    # ---- the WebLab-facing protocol ----

    def weblab(self, method, url, raw):
        user, password = self.credentials()
        auth_ok = (user == STATE.args.user
                   and password == STATE.args.password)
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        with STATE.lock:
            STATE.requests.append({
                "conn": self.conn_id,
                "time": time.time(),
                "method": method,
                "path": url.path,
                "query": url.query,
                "authorization": self.headers.get("Authorization"),
                "accept": self.headers.get("Accept"),
                "content_type": self.headers.get("Content-Type"),
                "auth_ok": auth_ok,
                "body": raw.decode("utf-8", "replace"),
                "json": parsed,
            })
            STATE.save()
            cfg = dict(STATE.config)
        if float(cfg["delay"]):
            time.sleep(float(cfg["delay"]))
        if not url.path.startswith(PREFIX):
            return self.send(404, "<h1>Not Found</h1>", "text/html")
        rest = url.path[len(PREFIX):]
        suffix = rest.rsplit("/", 1)[-1]
        if cfg["echo_secrets"] == "1":
            page = ("boom at %s for %s:%s" % (url.path, user, password))
        else:
            page = "<h1>Internal Server Error</h1>"
        if cfg["fail"] and (rest == cfg["fail"] or suffix == cfg["fail"]
                            or (cfg["fail"] == "start" and rest == "")):
            return self.send(500, page, "text/html")
        if cfg["not_json"] and (suffix == cfg["not_json"]
                                or (cfg["not_json"] == "start"
                                    and rest == "")):
            return self.send(200, "<html>surprise</html>", "text/html")
        if method == "GET" and rest == "api":
            return self.send_json(200, {"api_version": "1"})
        if not auth_ok:
            if rest == "test":
                why = ("Invalid credentials: wrong username provided. Check"
                       " the lab logs for further information." if user
                       else "Invalid credentials: no username provided")
                return self.send_json(401, {"valid": False,
                                            "error_messages": [why]},
                                      [("WWW-Authenticate",
                                        'Basic realm="Login Required"')])
            return self.send(401, "You don't seem to be a WebLab-Instance",
                             "text/html",
                             [("WWW-Authenticate",
                               'Basic realm="Login Required"')])
        if method == "GET" and rest == "test":
            return self.send_json(200, {"valid": True})
        if method == "POST" and rest == "":
            return self.start(parsed, cfg)
        if method == "GET" and rest.endswith("/status"):
            return self.status(urllib.parse.unquote(rest[:-len("/status")]),
                               cfg)
        if method == "POST" and "/" not in rest:
            return self.dispose(urllib.parse.unquote(rest), parsed, cfg)
        return self.send(404, "<h1>Not Found</h1>", "text/html")

    def start(self, data, cfg):
        # weblablib: request.get_json(force=True), then plain indexing: a
        # missing key or a string where an object belongs is a 500.
        try:
            cdata = data["client_initial_data"]
            sdata = data["server_initial_data"]
            back = data["back"]
            for key in REQUIRED_SERVER_KEYS:
                sdata[key]
            float(sdata["priority.queue.slot.length"])
            if "priority.queue.slot.start.timestamp" not in sdata:
                sdata["priority.queue.slot.start"].split(".")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            return self.send(500, "<h1>Internal Server Error</h1><p>%s</p>"
                             % html.escape(repr(exc)), "text/html")
        mode = cfg["start"]
        if mode == "error":
            return self.send_json(200, {"error": True, "message":
                                        "Error initializing laboratory"})
        if mode == "not_json":
            return self.send(200, "<html>oops</html>", "text/html")
        # weblablib's create_token: 32 random bytes, URL-safe base64
        # without padding, "-" turned into "_" (43 characters).
        sid = secrets.token_urlsafe(32).replace("-", "_")
        if mode == "long_session_id":
            sid = sid * 2
        public = STATE.args.public_url or "http://127.0.0.1:%d" % (
            self.server.server_address[1])
        with STATE.lock:
            STATE.sessions[sid] = {
                "back": back,
                "client_initial_data": cdata,
                "server_initial_data": sdata,
                "username": sdata["request.username"],
                "deleted": False,
                "deletes": 0,
                "status_calls": 0,
            }
            STATE.save()
        answer = {"url": "%s/callback/%s" % (public.rstrip("/"), sid),
                  "session_id": sid}
        if mode == "no_session_id":
            del answer["session_id"]
        if mode == "no_url":
            del answer["url"]
        return self.send_json(200, answer)

    def status(self, sid, cfg):
        with STATE.lock:
            session = STATE.sessions.get(sid)
            if session is not None:
                session["status_calls"] += 1
            live = session is not None and not session["deleted"]
        n = float(cfg["should_finish"]) if live else -1
        return self.send_json(200, {"should_finish":
                                    int(n) if n == int(n) else n})

    def dispose(self, sid, data, cfg):
        if not isinstance(data, dict) or data.get("action") != "delete":
            return self.send_json(200, {"message": "Unknown op"})
        with STATE.lock:
            session = STATE.sessions.get(sid)
            if session is not None:
                session["deletes"] += 1
                found = not session["deleted"]
                session["deleted"] = True
            else:
                found = False
            STATE.save()
        mode = cfg["dispose"]
        if mode in ("ok", "deleted"):
            return self.send(200, mode, "text/plain")
        if mode == "empty":
            return self.send(200, "", "text/plain")
        if mode == "finished_data":
            return self.send_json(200, {"finished": True,
                                        "data": {"score": 7}})
        return self.send_json(200, {"message":
                                    "Deleted" if found else "Not found"})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass        # a client that timed out and left: expected here


def main():
    global STATE
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--user", default="weblabdeusto")
    parser.add_argument("--password", default="secret")
    parser.add_argument("--public-url", default="",
                        help="base of the callback URLs (default: this"
                             " server)")
    parser.add_argument("--record", default="",
                        help="rewrite the record to this JSON file")
    parser.add_argument("--ignore-stdin", action="store_true",
                        help="do not exit when stdin closes")
    args = parser.parse_args()
    STATE = State(args)
    server = Server(("127.0.0.1", args.port), Handler)
    print("PORT %d" % server.server_address[1], flush=True)

    if not args.ignore_stdin:
        def watch_stdin():
            sys.stdin.read()                # returns at EOF
            os._exit(0)

        threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
