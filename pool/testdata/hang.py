#!/usr/bin/env python3
# Fault: {"hang": true} never answers and ignores cancel; other tasks are {a, b} -> a + b. With the argument --ignore-term, SIGTERM is ignored too.
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from childproc_pool import serve  # noqa: E402

if "--ignore-term" in sys.argv:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def handle(req):
    if req.get("hang"):
        while True:
            time.sleep(3600)
    return req["a"] + req["b"]


serve(handle)
