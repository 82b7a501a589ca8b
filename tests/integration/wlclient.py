"""A WebLab-Deusto JSON client for the integration tests: one cookie jar
per simulated student, like a browser or the original's bot."""
import http.cookiejar
import json
import re
import time
import urllib.request

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
PUBLIC_RESERVATION_ID = re.compile(r"^(%s);\1\.route\d+$" % UUID)
SESSION_ID = re.compile(r"^[0-9a-zA-Z_-]{16}$")


class WebLabError(Exception):
    def __init__(self, code, message):
        super().__init__("%s: %s" % (code, message))
        self.code = code
        self.message = message


class Student:
    """base: http://host:port[/base-url] (the /weblab/ prefix is added)."""

    def __init__(self, base):
        self.base = base.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar))
        self.last_headers = None

    def raw(self, body, path="/weblab/json/", headers=None, method="POST"):
        """POST raw bytes; returns (status, text)."""
        req = urllib.request.Request(
            self.base + path, data=body, method=method,
            headers=dict({"Content-Type": "application/json"},
                         **(headers or {})))
        with self.opener.open(req, timeout=30) as resp:
            self.last_headers = resp.headers
            return resp.status, resp.read().decode()

    def envelope(self, method, params=None, path="/weblab/json/",
                 headers=None):
        """The whole answer ({"result"...} or the error envelope)."""
        body = json.dumps({"method": method, "params": params or {}})
        status, text = self.raw(body.encode(), path, headers)
        assert status == 200, (status, text)
        return json.loads(text)

    def call(self, method, params=None, path="/weblab/json/", headers=None):
        """The result, or WebLabError for an error answer."""
        doc = self.envelope(method, params, path, headers)
        if doc["is_exception"]:
            raise WebLabError(doc["code"], doc["message"])
        assert set(doc) == {"result", "is_exception"}, doc
        return doc["result"]

    def cookie(self, name):
        for c in self.jar:
            if c.name == name:
                return c
        return None

    # the student cycle (spec 1.7)
    def login(self, username="admin", password="password"):
        r = self.call("login", {"username": username, "password": password},
                      path="/weblab/login/json/")
        self.session_id = r["id"]
        return r

    def reserve(self, exp="dummy", cat="Dummy experiments"):
        r = self.call("reserve_experiment", {
            "session_id": {"id": self.session_id},
            "experiment_id": {"exp_name": exp, "cat_name": cat},
            "client_initial_data": "{}", "consumer_data": "{}"})
        self.reservation_id = r["reservation_id"]["id"]
        return r

    def status(self, rid=None):
        return self.call("get_reservation_status",
                         {"reservation_id": {"id": rid or
                                             self.reservation_id}})

    def wait_status(self, wanted, timeout=15.0, rid=None, every=0.1):
        """Poll get_reservation_status until its status is `wanted`."""
        deadline = time.monotonic() + timeout
        seen = []
        while time.monotonic() < deadline:
            st = self.status(rid)
            seen.append(st["status"])
            if st["status"] == wanted:
                return st
            time.sleep(every)
        raise AssertionError("never reached %s; saw %s" % (wanted, seen[-5:]))

    def command(self, text):
        return self.call("send_command", {
            "reservation_id": {"id": self.reservation_id},
            "command": {"commandstring": text}})

    def send_file(self, b64, info):
        return self.call("send_file", {
            "reservation_id": {"id": self.reservation_id},
            "file_content": b64, "file_info": info})

    def finish(self):
        return self.call("finished_experiment",
                         {"reservation_id": {"id": self.reservation_id}})

    def logout(self):
        return self.call("logout", {"session_id": {"id": self.session_id}})
