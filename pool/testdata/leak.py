#!/usr/bin/env python3
# Fault: {"leak": N} keeps N more bytes (touched, so they count in RSS) and answers {kept, rss}; other tasks are {a, b} -> a + b.
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from childproc_pool import serve  # noqa: E402

kept = []


def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def handle(req):
    if "leak" not in req:
        return req["a"] + req["b"]
    kept.append(bytearray(b"\x01") * req["leak"])
    return {"kept": sum(map(len, kept)), "rss": rss()}


serve(handle)
