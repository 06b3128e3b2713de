#!/usr/bin/env python3
# Fault: breaks the protocol on demand. {"bad": "malformed"} writes a line that is not JSON, "unknown-id" answers id+1000000 instead, "duplicate" answers twice, "no-id" answers without an id, "huge" answers a string of `size` bytes, "foreign" sends a non-pool message and an unknown kind before the right answer; other tasks are {a, b} -> a + b.
import json
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from childproc_pool import serve  # noqa: E402

# The channel's descriptor (serve removes the variable), for raw writes.
channel_fd = int(os.environ["NODE_CHANNEL_FD"])


def raw(msg):
    os.write(channel_fd, (msg if isinstance(msg, str) else json.dumps(msg)).encode() + b"\n")


def handle(req, cancel):
    bad = req.get("bad")
    if bad == "malformed":
        raw("this is not JSON")
    elif bad == "unknown-id":
        raw({"pool": "result", "id": cancel.id + 1000000, "value": "for nobody"})
    elif bad == "duplicate":
        raw({"pool": "result", "id": cancel.id, "value": "first"})
        return "second"
    elif bad == "no-id":
        raw({"pool": "result", "value": "no id"})
    elif bad == "huge":
        return "x" * req["size"]
    elif bad == "foreign":
        raw({"hello": "not a pool message"})
        raw({"pool": "bogus", "id": cancel.id})
        return "after foreign"
    else:
        return req["a"] + req["b"]
    threading.Event().wait()  # never answers the task itself


serve(handle)
