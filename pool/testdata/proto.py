#!/usr/bin/env python3
# The protocol tests' worker: req["op"] picks what the handler does; with the argument "async", an async def handler does it.
import asyncio
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from childproc_pool import AbortError, recycle, serve  # noqa: E402


class CustomError(Exception):
    pass


def common(req, cancel):
    """The ops that are the same for both handlers; None if req is not one."""
    op = req["op"]
    if op == "add":
        return req["a"] + req["b"]
    if op == "echo":
        return req["value"]
    if op == "id":
        return cancel.id
    if op == "throw":
        raise TypeError(req["message"])
    if op == "throw-custom":
        raise CustomError("custom")
    if op == "unencodable":
        return {1, 2}
    if op == "nan":
        return float("nan")
    if op == "print":
        print(req["text"])
        sys.stdout.write("no newline, ")
        sys.stdout.flush()
        return "printed"
    if op == "recycle":
        recycle(req["reason"])
        return "asked"
    return None


barrier = threading.Condition()
barrier_started = 0


def barrier_wait(n):
    """Returns once n barrier tasks are running at the same time."""
    global barrier_started
    with barrier:
        barrier_started += 1
        barrier.notify_all()
        if not barrier.wait_for(lambda: barrier_started >= n, 20):
            raise RuntimeError("barrier: only %d of %d tasks ran at once" % (barrier_started, n))


def handle(req, cancel):
    op = req["op"]
    if op == "undefined":
        return None
    if op == "barrier":
        barrier_wait(req["n"])
        return cancel.id
    if op == "sleep":
        time.sleep(req["ms"] / 1000)
        return req["ms"]
    if op == "wait-cancel":
        cancel.wait(30)
        cancel.raise_if_set()
        return "not reached"
    if op == "finish-anyway":
        cancel.wait(30)
        return "finished anyway"
    if op == "linger":
        time.sleep(60)
    return common(req, cancel)


started = 0
released = None


async def handle_async(req, cancel):
    global started, released
    op = req["op"]
    if op == "undefined":
        return None
    if op == "barrier":
        if released is None:
            released = asyncio.Event()
        started += 1
        if started >= req["n"]:
            released.set()
        await asyncio.wait_for(released.wait(), 20)
        return cancel.id
    if op == "sleep":
        await asyncio.sleep(req["ms"] / 1000)
        return req["ms"]
    if op == "wait-cancel":  # cancelled at the await: CancelledError, sent as AbortError
        await asyncio.sleep(30)
        return "not reached"
    if op == "finish-anyway":
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            return "finished anyway"
    if op == "raise-abort":
        await cancel.wait()
        raise AbortError()
    if op == "linger":  # ignores cancellation
        while True:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                pass
    return common(req, cancel)


serve(handle_async if sys.argv[1:] == ["async"] else handle)
