// A Node parent for a Go child (argv[2], testdata/advchild) on an
// advanced channel. For every case it sends the value; the child sends
// back {value, bytes}: the value as it decoded it, and its own
// serialization of it. Both must match: the value deep-strict-equal to
// the case's, the bytes Node's serialization of it. Then it passes a
// socket with a message. Prints "ok" and exits 0 when all held; prints
// the failures otherwise.
const { spawn } = require('child_process');
const net = require('net');
const util = require('util');
const { cases, serialize, same } = require('./advanced_cases.js');
const child = spawn(process.argv[2], [], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
const names = Object.keys(cases).filter((n) => !cases[n].unreadable);
const failures = [];
let step = 0;
function next() {
  if (step < names.length) {
    child.send(cases[names[step]].value());
    return;
  }
  const srv = net.createServer((s) => { s.on('error', () => {}); s.end(); });
  srv.listen(0, '127.0.0.1', () => {
    const c = net.connect(srv.address().port, '127.0.0.1', () => {
      child.send({ greeting: new Map([[1n, 'handle message']]) }, c);
    });
  });
  child.once('message', (m) => {
    if (m.handled !== 'net.Socket' || !util.isDeepStrictEqual(m.msg, { greeting: new Map([[1n, 'handle message']]) })) {
      failures.push('handle: ' + util.inspect(m));
    }
    srv.close();
    child.disconnect();
  });
}
child.on('message', (m) => {
  if (step >= names.length) return;
  const name = names[step++];
  const c = cases[name];
  const want = c.value();
  if (!same(m.value, (c.back || c.value)())) {
    failures.push(name + ': came back as ' + util.inspect(m.value, { maxStringLength: 80, maxArrayLength: 10 }));
  } else if (!c.loose && !m.bytes.equals(serialize(want))) {
    failures.push(name + ': Go wrote ' + m.bytes.subarray(0, 80).toString('hex') + ', Node writes ' + serialize(want).subarray(0, 80).toString('hex'));
  }
  next();
});
child.on('exit', (code) => {
  if (code !== 0) failures.push('go child exit code ' + code);
  if (step !== names.length) failures.push('only ' + step + ' of ' + names.length + ' cases answered');
  console.log(failures.length ? failures.join('\n') : 'ok');
  process.exitCode = failures.length ? 1 : 0;
});
next();
