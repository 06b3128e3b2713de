#!/usr/bin/env python3
# Fault: {"crash": true} writes a line on stderr and exits with status 7 mid-task; other tasks are {a, b} -> a + b.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from childproc_pool import serve  # noqa: E402


def handle(req):
    if req.get("crash"):
        print("crash: exiting on task with pid %d" % os.getpid(), file=sys.stderr, flush=True)
        os._exit(7)
    return req["a"] + req["b"]


serve(handle)
