# A raw pool worker that answers each task with its request, a string,
# as the bytes of its result message after "{id}" in it is replaced by
# the task's id: results in any shape the test makes up.
import json, os, socket

sock = socket.socket(fileno=int(os.environ["NODE_CHANNEL_FD"]))
f = sock.makefile("rwb")
f.write(b'{"pool":"ready","protocol":1}\n')
f.flush()
for line in f:
    msg = json.loads(line)
    if msg.get("pool") == "task":
        f.write(msg["value"].replace("{id}", str(msg["id"])).encode() + b"\n")
        f.flush()
