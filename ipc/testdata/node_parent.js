// A Node parent for a Go child (argv[2]) that speaks ipc: checks echoes,
// that the child received Node's exact bytes, send callbacks, passing a
// socket, and 'disconnect'.
// Prints "ok" and exits 0 when everything held; throws otherwise.
const { spawn } = require('child_process');
const net = require('net');
const assert = require('assert');
const child = spawn(process.argv[2], [], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'] });
const msgs = [
  { a: 1, s: 'line\nbreak \u2028 \u2029 é 😀', nested: { b: [true, null, 'x'] } },
  'plain string', 1.5, null, true, [1, 2, 3], '\ud800', 'x'.repeat(8 << 20),
];
let callbacks = 0;
let step = 0;
let rawStep = 0;
let disconnected = false;
child.on('disconnect', () => { disconnected = true; });
child.on('exit', (code) => {
  assert.strictEqual(code, 0, 'go child exit code');
  assert.ok(disconnected, 'disconnect event before exit');
  assert.strictEqual(callbacks, 2 * msgs.length + 1, 'send callbacks');
  assert.strictEqual(rawStep, msgs.length, 'raw bytes checked');
  console.log('ok');
});
function next() {
  if (step < msgs.length) {
    child.send(msgs[step], (err) => { assert.ifError(err); callbacks++; });
    return;
  }
  // The bytes the Go child received are exactly Node's serialization.
  if (rawStep < msgs.length) {
    child.send({ rawcheck: msgs[rawStep] }, (err) => { assert.ifError(err); callbacks++; });
    return;
  }
  // Pass a socket: the Go child writes a greeting into it.
  const srv = net.createServer((s) => {
    let got = '';
    s.on('data', (d) => { got += d; });
    s.on('end', () => {
      assert.strictEqual(got, 'hello from go: {"take":"this"}');
      srv.close();
      child.send('bye', (err) => { assert.ifError(err); callbacks++; });
    });
  });
  srv.listen(0, '127.0.0.1', () => {
    const c = net.connect(srv.address().port, '127.0.0.1', () => {
      child.send({ take: 'this' }, c);
    });
  });
}
child.on('message', (m) => {
  if (m && m.handled) { assert.strictEqual(m.handled, 'net.Socket'); return; }
  if (m && typeof m.raw === 'string') {
    assert.strictEqual(m.raw, JSON.stringify({ rawcheck: msgs[rawStep] }), 'raw bytes ' + rawStep);
    rawStep++;
    next();
    return;
  }
  assert.strictEqual(JSON.stringify(m), JSON.stringify(msgs[step]), 'echo ' + step);
  step++;
  next();
});
next();
