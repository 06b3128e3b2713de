# A worker that breaks the pool protocol in the way its first argument
# names, on its first task: bad-json, unknown-id, duplicate, huge,
# noise (messages that are not the pool's, then a right answer); or,
# deaf: says it is ready and then takes nothing more (its socket shut
# for reading, so that what the parent sends fails), staying alive.
import json, os, socket, sys

mode = sys.argv[1]
sock = socket.socket(fileno=int(os.environ["NODE_CHANNEL_FD"]))
f = sock.makefile("rwb")

def send(raw):
    f.write(raw + b"\n")
    f.flush()

if mode == "deaf":
    sock.shutdown(socket.SHUT_RD)  # before ready: no task gets in
    send(b'{"pool":"ready","protocol":1}')
    sys.stdin.read()  # until the parent goes
    sys.exit(0)
send(b'{"pool":"ready","protocol":1}')
for line in f:
    msg = json.loads(line)
    if msg.get("pool") != "task":
        continue
    i = msg["id"]
    answer = json.dumps({"pool": "result", "id": i, "value": msg["value"]}).encode()
    if mode == "bad-json":
        send(b'{"pool":"result","id":' + str(i).encode() + b',"value":')
    elif mode == "unknown-id":
        send(json.dumps({"pool": "result", "id": i + 1000, "value": 1}).encode())
    elif mode == "duplicate":
        send(answer)
        send(answer)
    elif mode == "huge":
        send(b'{"pool":"result","id":' + str(i).encode() + b',"value":"' + b"x" * (2 << 20) + b'"}')
    elif mode == "bad-id":
        send(b'{"pool":"result","id":"seven","value":1}')
    elif mode == "noise":
        for junk in [b'"hello"', b'[1,2]', b'{"x":1}', b'{"pool":"nonsense","id":1}', b'{"pool":7}', b'null']:
            send(junk)
        send(answer)
