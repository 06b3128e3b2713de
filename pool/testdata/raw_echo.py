#!/usr/bin/env python3
# Not a pool worker: answers {"pool":"task"} in one thread, a write per batch read, without the helper: the floor for the benchmarks.
import json, os, socket
s = socket.socket(fileno=int(os.environ["NODE_CHANNEL_FD"]))
s.sendall(b'{"pool":"ready","protocol":1}\n')
buf = b""
while True:
    d = s.recv(65536)
    if not d: break
    lines = (buf + d).split(b"\n"); buf = lines.pop()
    out = []
    for l in lines:
        m = json.loads(l); v = m["value"]
        out.append(json.dumps({"pool": "result", "id": m["id"], "value": v["a"] + v["b"]}))
    s.sendall(("\n".join(out) + "\n").encode())
