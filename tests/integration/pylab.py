#!/usr/bin/python3
"""An experiment server written from the spec in Python's standard library,
independent of ours: it speaks the WebLab-Deusto XML-RPC protocol (Util.*,
API 1, 2 or 2_concurrent) and records every call as a JSON line, so tests
can check what mod_weblab really sent (spec 4.4, 10.2)."""
import argparse
import json
import sys
import threading
import time
from socketserver import ThreadingMixIn
from xmlrpc.server import SimpleXMLRPCServer, SimpleXMLRPCRequestHandler


class Server(ThreadingMixIn, SimpleXMLRPCServer):
    daemon_threads = True


class Handler(SimpleXMLRPCRequestHandler):
    rpc_paths = ("/", "/RPC2", "/weblab", "/weblab/xmlrpc")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--api", default="2")
    ap.add_argument("--record", required=True)
    ap.add_argument("--batch", action="store_true")
    ap.add_argument("--dispose-ask-again", type=int, default=0,
                    help="answer finished=false this many times first")
    ap.add_argument("--should-finish", default="0",
                    help="comma list of answers, the last one repeats")
    ap.add_argument("--hang-start", action="store_true",
                    help="never answer start_experiment")
    ap.add_argument("--keep-initializing", action="store_true",
                    help="start_experiment answers keep_initializing: true")
    ap.add_argument("--end-data", default=None)
    a = ap.parse_args()

    lock = threading.Lock()
    state = {"disposes": 0, "should": [float(x) for x in
                                       a.should_finish.split(",")]}

    def record(method, args):
        with lock, open(a.record, "a") as f:
            f.write(json.dumps({"method": method, "args": args,
                                "t": time.time()}) + "\n")

    def strip_session(args):
        if a.api == "2_concurrent":
            return args[1:]
        return args

    def test_me(msg):
        record("test_me", [msg])
        return msg

    def get_api():
        record("get_api", [])
        return a.api

    def start_experiment(*args):
        record("start_experiment", list(args))
        if a.hang_start:
            time.sleep(3600)
        if a.api == "1":
            return "ok"
        answer = {"initial_configuration": json.dumps({"lab": "pylab"}),
                  "batch": a.batch}
        if a.keep_initializing:
            answer["keep_initializing"] = True
        return json.dumps(answer)

    def behave(text):
        """'sleep N ...' answers after N seconds; 'fail ...' faults."""
        words = text.split()
        if words[:1] == ["sleep"] and len(words) > 1:
            time.sleep(float(words[1]))
        if words[:1] == ["fail"]:
            raise Exception("pylab refuses: " + text)

    def send_command_to_device(*args):
        record("send_command_to_device", list(args))
        command = strip_session(list(args))[0]
        behave(command)
        record("answered", [command])
        return "pylab got: " + command

    def send_file_to_device(*args):
        record("send_file_to_device", list(args))
        content, info = strip_session(list(args))
        behave(info)
        record("answered", [info])
        return "pylab file %s of %d chars" % (info, len(content))

    def should_finish(*args):
        record("should_finish", list(args))
        with lock:
            v = state["should"][0]
            if len(state["should"]) > 1:
                state["should"].pop(0)
        return v

    def dispose(*args):
        record("dispose", list(args))
        with lock:
            state["disposes"] += 1
            n = state["disposes"]
        if a.api == "1":
            return "ok"
        if n <= a.dispose_ask_again:
            return json.dumps({"finished": False, "ask_again": 0.2})
        out = {"finished": True}
        if a.end_data is not None:
            out["data"] = a.end_data
        return json.dumps(out)

    def is_up_and_running():
        record("is_up_and_running", [])
        return [600, ""]

    s = Server(("127.0.0.1", a.port), requestHandler=Handler,
               logRequests=False, allow_none=True)
    for fn in (test_me, get_api, start_experiment, send_command_to_device,
               send_file_to_device, should_finish, dispose,
               is_up_and_running):
        s.register_function(fn, "Util." + fn.__name__)
    print("listening", flush=True)
    s.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
