"""The worker side of childproc's pool protocol, for Python (written for 3.8
or later, tested with 3.11).

Standard library only: copy this file next to your worker, or put its
folder on PYTHONPATH.

    #!/usr/bin/env python3
    from childproc_pool import serve

    def add(req, cancel):
        return req["a"] + req["b"]

    serve(add)

serve(handler) answers the pool's tasks on the IPC channel that a pool (or
any childproc.Fork parent) opened for this process, and returns when the
parent closes it. For each task it calls handler(value, cancel) (or
handler(value) if the handler takes one argument) and sends back what it
returns; None is null. A handler that raises fails only its own task: the
parent gets the exception's message, class name and traceback. A result
that JSON cannot encode (a set, NaN, a cycle) fails its task with the
encoder's exception (TypeError, ValueError).

Several tasks may run at once (the pool decides how many). A plain
function runs in a thread of its own (threads are reused); cancel is a
threading.Event set when the caller gives up: poll cancel.is_set(), block
in cancel.wait(timeout), or call cancel.raise_if_set(), which raises
AbortError; cancel.id is the task's id. An async def handler runs as an
asyncio task on one event loop; cancel is then an asyncio.Event, and the
task is also cancelled (a CancelledError at its await, reported as
AbortError unless the handler catches it and returns). Either way the
task's outcome is still sent. (Only a function defined with async def is
run as a coroutine.)

When the parent closes the channel, every running task is cancelled;
serve returns once they have finished. If some are still running after
EXIT_GRACE seconds, the process exits at once with status 0.

The protocol is on the channel, not on stdout: the worker may print.

recycle(reason) asks the pool to replace this worker once its running
tasks are done (a cache grown too big, a leak noticed).

The protocol: one JSON text per line on the socket at NODE_CHANNEL_FD
(Node's IPC channel, "json" serialization); messages of other kinds are
ignored.
    parent -> worker  {"pool":"task","id":7,"value":...}  {"pool":"cancel","id":7}
    worker -> parent  {"pool":"ready","protocol":1}     {"pool":"result","id":7,"value":...}
                      {"pool":"error","id":7,"error":{"message":...,"name":...,"stack":...}}
                      {"pool":"recycle","reason":...}
"""

import asyncio
import inspect
import json
import os
import queue
import socket
import sys
import threading
import traceback

__all__ = ["serve", "recycle", "AbortError", "Cancel"]

PROTOCOL = 1
EXIT_GRACE = 1.0
_READ_SIZE = 1 << 16


class AbortError(Exception):
    """The task was cancelled and the handler gave up on it."""

    def __init__(self, message="The task was cancelled"):
        super().__init__(message)


class _Cancel:
    """What both kinds of cancel add to their event: the task's id and raise_if_set."""

    def __init__(self, id):
        super().__init__()
        self.id = id

    def raise_if_set(self):
        """Raises AbortError if the task has been cancelled."""
        if self.is_set():
            raise AbortError()


class Cancel(_Cancel, threading.Event):
    """The second argument of a plain handler: a threading.Event set when
    the task is cancelled; its id attribute is the task's id."""


class _AsyncCancel(_Cancel, asyncio.Event):
    """The second argument of an async handler: an asyncio.Event set when
    the task is cancelled; its id attribute is the task's id."""


_send = None  # set by serve: sends one message to the parent
_recycle_sent = False


def serve(handler):
    """Serves the pool protocol with handler until the parent closes the channel."""
    global _send
    if _send is not None:
        raise RuntimeError("serve: called twice")
    sock = _channel()
    call = _adapt(handler)
    if inspect.iscoroutinefunction(handler):
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(_AsyncServer(loop, sock, call).run())
        finally:
            loop.close()
    else:
        _ThreadServer(sock, call).run()


def recycle(reason=""):
    """Asks the pool to replace this worker once its running tasks are done.

    Only the first call sends anything; it may be called from any thread.
    """
    global _recycle_sent
    if _send is None:
        raise RuntimeError("recycle: serve is not running")
    if not _recycle_sent:
        _recycle_sent = True
        _send({"pool": "recycle", "reason": str(reason)})


def _channel():
    """Takes the IPC socket named by NODE_CHANNEL_FD, as Node's child does:
    the variable is removed and the descriptor is not inherited further."""
    fd = os.environ.pop("NODE_CHANNEL_FD", None)
    mode = os.environ.pop("NODE_CHANNEL_SERIALIZATION_MODE", "json")
    if fd is None:
        raise RuntimeError("serve: this process has no IPC channel (NODE_CHANNEL_FD); start it from a childproc pool or fork()")
    if mode != "json":
        raise RuntimeError("serve: the channel's serialization is %r; only 'json' is supported" % mode)
    sock = socket.socket(fileno=int(fd))
    sock.set_inheritable(False)
    return sock


def _adapt(handler):
    """Returns handler as a function of (value, cancel)."""
    try:
        params = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature
        return handler
    positional = 0
    for p in params:
        if p.kind == p.VAR_POSITIONAL:
            return handler
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            positional += 1
    if positional >= 2:
        return handler
    return lambda value, cancel: handler(value)


def _encode(msg):
    return (json.dumps(msg, allow_nan=False, separators=(",", ":")) + "\n").encode()


def _result(id, value):
    """Encodes a result, or the error of a result JSON cannot encode."""
    try:
        return _encode({"pool": "result", "id": id, "value": value})
    except Exception as e:  # TypeError, ValueError (NaN, a cycle), RecursionError
        return _encode(_error(id, e))


def _error(id, e, name=None):
    try:
        message = str(e)
        stack = "".join(traceback.format_exception(type(e), e, e.__traceback__))
    except Exception:  # a __str__ that raises
        message, stack = "<unprintable %s>" % type(e).__name__, ""
    return {"pool": "error", "id": id, "error": {"message": message, "name": name or type(e).__name__, "stack": stack}}


def _aborted(id):
    return _encode({"pool": "error", "id": id, "error": {"message": "The task was cancelled", "name": "AbortError", "stack": ""}})


def _exit_now():
    """Ends the process at once with status 0 (handlers that outlived the channel)."""
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except Exception:
            pass
    os._exit(0)


class _Lines:
    """Cuts what is read into messages, one JSON text per line. The start
    of a long line is kept in pieces until its end comes, so that a big
    message is copied once, not once per read."""

    def __init__(self):
        self.pieces = []

    def feed(self, data):
        """Returns the messages that data completes."""
        if b"\n" not in data:
            self.pieces.append(data)
            return []
        if self.pieces:
            self.pieces.append(data)
            data = b"".join(self.pieces)
        lines = data.split(b"\n")
        rest = lines.pop()
        self.pieces = [rest] if rest else []
        return [json.loads(line) for line in lines]


def _valid_id(msg):
    id = msg.get("id")
    return isinstance(id, int) and not isinstance(id, bool)


class _ThreadServer:
    """Runs a plain handler, a thread for each task in flight: a task gets
    an idle thread or a new one, never waits behind another task. Threads
    are kept for later tasks, so there are as many as the most tasks that
    were ever in flight at once."""

    def __init__(self, sock, call):
        self.sock = sock
        self.call = call
        self.write_lock = threading.Lock()  # held while writing; guards pending, writing and closed
        self.pending = []  # encoded messages for the thread that is writing
        self.writing = False
        self.closed = False
        self.running = {}  # id -> Cancel
        self.done = threading.Condition()
        self.idle = 0  # threads waiting on queue with nothing reserved for them
        self.queue = queue.SimpleQueue()

    def run(self):
        global _send
        _send = self.send
        self.write(_encode({"pool": "ready", "protocol": PROTOCOL}))
        lines = _Lines()
        while True:
            try:
                data = self.sock.recv(_READ_SIZE)
            except ConnectionResetError:
                data = b""
            if not data:
                break
            for msg in lines.feed(data):
                if isinstance(msg, dict):
                    self.dispatch(msg)
        self.drain()

    def dispatch(self, msg):
        kind = msg.get("pool")
        if kind == "task":
            if not _valid_id(msg) or msg["id"] in self.running:
                print("childproc pool: dropped a task with id %r (not an integer, or already running)" % (msg.get("id"),), file=sys.stderr)
                return
            cancel = Cancel(msg["id"])
            self.running[msg["id"]] = cancel
            self.submit((msg["id"], msg.get("value"), cancel))
        elif kind == "cancel":
            cancel = self.running.get(msg.get("id"))
            if cancel is not None:
                cancel.set()

    def submit(self, task):
        with self.done:
            if self.idle > 0:
                self.idle -= 1
                self.queue.put(task)
                return
        threading.Thread(target=self.loop, args=(task,), name="childproc-pool-task", daemon=True).start()

    def loop(self, task):
        try:
            while True:
                self.run_task(*task)
                with self.done:
                    self.idle += 1
                task = self.queue.get()
        except BaseException:  # a bug here, not in the handler
            _fail()

    def run_task(self, id, value, cancel):
        try:
            out = _result(id, self.call(value, cancel))
        except SystemExit as e:  # sys.exit() in a handler ends the process, as in the main thread
            sys.stdout.flush()
            os._exit(e.code if isinstance(e.code, int) else 1)
        except Exception as e:
            out = _encode(_error(id, e))
        with self.done:
            del self.running[id]
            self.done.notify_all()
        self.write(out)

    def send(self, msg):
        self.write(_encode(msg))

    def write(self, data):
        """Sends data, and what other threads queued meanwhile, in one write."""
        with self.write_lock:
            if self.closed:
                return
            self.pending.append(data)
            if self.writing:  # that thread sends it
                return
            self.writing = True
        while True:
            with self.write_lock:
                batch, self.pending = self.pending, []
                if not batch or self.closed:
                    self.writing = False
                    return
            try:
                self.sock.sendall(b"".join(batch))
            except OSError:  # the parent has gone; the read side sees the end
                with self.write_lock:
                    self.closed = True

    def drain(self):
        """Cancels what is still running and waits for it, EXIT_GRACE at most."""
        with self.write_lock:
            self.closed = True
        with self.done:
            for cancel in self.running.values():
                cancel.set()
            if not self.done.wait_for(lambda: not self.running, EXIT_GRACE):
                _exit_now()
        self.sock.close()


def _fail():
    """Reports the exception being handled, a failure of this module, and
    exits with status 70 (the pool replaces the worker)."""
    traceback.print_exc()
    sys.stderr.flush()
    os._exit(70)


class _AsyncServer(asyncio.Protocol):
    """Runs an async def handler as one asyncio task per task in flight."""

    def __init__(self, loop, sock, call):
        self.loop = loop
        self.sock = sock
        self.call = call
        self.transport = None
        self.lines = _Lines()
        self.running = {}  # id -> (asyncio task, _AsyncCancel)
        self.lost = loop.create_future()
        self.thread = threading.get_ident()

    async def run(self):
        global _send
        _send = self.send
        await self.loop.create_unix_connection(lambda: self, sock=self.sock)
        self.transport.write(_encode({"pool": "ready", "protocol": PROTOCOL}))
        await self.lost
        tasks = [t for t, _ in self.running.values()]
        for t, cancel in self.running.values():
            cancel.set()
            t.cancel()
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=EXIT_GRACE)
            if pending:
                _exit_now()

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        try:
            for msg in self.lines.feed(data):
                if isinstance(msg, dict):
                    self.dispatch(msg)
        except Exception:  # asyncio would log it and close the channel as if the parent had
            _fail()

    def connection_lost(self, exc):
        self.transport = None
        if not self.lost.done():
            self.lost.set_result(None)

    def dispatch(self, msg):
        kind = msg.get("pool")
        if kind == "task":
            id = msg.get("id")
            if not _valid_id(msg) or id in self.running:
                print("childproc pool: dropped a task with id %r (not an integer, or already running)" % (id,), file=sys.stderr)
                return
            cancel = _AsyncCancel(id)
            task = self.loop.create_task(self.call(msg.get("value"), cancel))
            self.running[id] = (task, cancel)
            task.add_done_callback(lambda t: self.finished(id, t))
        elif kind == "cancel":
            entry = self.running.get(msg.get("id"))
            if entry is not None:
                entry[1].set()
                entry[0].cancel()

    def finished(self, id, task):
        try:
            self.finish(id, task)
        except Exception:
            _fail()

    def finish(self, id, task):
        del self.running[id]
        if task.cancelled():
            out = _aborted(id)
        elif task.exception() is not None:
            out = _encode(_error(id, task.exception()))
        else:
            out = _result(id, task.result())
        self.write(out)

    def send(self, msg):
        data = _encode(msg)
        if threading.get_ident() == self.thread:
            self.write(data)
        else:
            self.loop.call_soon_threadsafe(self.write, data)

    def write(self, data):
        if self.transport is not None:
            self.transport.write(data)
