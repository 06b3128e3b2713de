// Echo child for the Go parent tests. Modes (argv[2]):
//   echo      echo every message back as it came
//   internal  send protocol-looking messages, then a normal one
//   disconnect  report 'disconnect' by exiting 42
//   bye       call process.disconnect() after the first message
//   crash     send 3 messages, then die with exit code 3
//   serve     receive a net.Server handle and answer every connection
//   sendsock  send one end of a TCP connection to the parent
//   handles   report the kind of every handle it is sent, reading a line
//             from it when it is a pipe
const net = require('net');
const mode = process.argv[2] || 'echo';
switch (mode) {
  case 'echo':
    process.on('message', (m) => process.send(m));
    break;
  case 'internal':
    process.send({ cmd: 'NODE_X', hidden: true });
    process.send({ cmd: 'NODE_', shown: 1 });
    process.send({ cmd: 'node_lower', shown: 2 });
    process.send({ cmd: 5, shown: 3 });
    process.send('last');
    process.on('message', () => {});
    break;
  case 'disconnect':
    process.on('message', () => {});
    process.on('disconnect', () => process.exit(42));
    process.send('ready');
    break;
  case 'bye':
    process.on('message', () => { process.send('bye', () => process.disconnect()); });
    break;
  case 'crash':
    process.send(1); process.send(2); process.send(3, () => process.exit(3));
    break;
  case 'serve':
    process.on('message', (m, server) => {
      if (!server) { process.send({ error: 'no handle' }); return; }
      server.on('connection', (s) => s.end('hello from node: ' + m.greeting));
      process.send({ serving: true });
    });
    process.on('disconnect', () => process.exit(0));
    break;
  case 'handles':
    process.on('message', (m, h) => {
      const kind = h ? h.constructor.name : 'none';
      if (kind !== 'Pipe') { process.send({ m, kind }); return; }
      // A raw Pipe handle: wrap it in a net.Socket to read from it.
      const s = new net.Socket({ handle: h });
      s.once('data', (d) => { process.send({ m, kind, read: String(d) }); s.destroy(); });
    });
    process.on('disconnect', () => process.exit(0)); // the handles keep it alive otherwise
    break;
  case 'sendsock': {
    const srv = net.createServer((s) => { s.end('through the passed socket'); });
    srv.listen(0, '127.0.0.1', () => {
      const c = net.connect(srv.address().port, '127.0.0.1', () => {
        process.send({ here: 'socket' }, c, () => { process.send('after'); });
      });
    });
    process.on('message', () => { srv.close(); process.disconnect(); });
    break;
  }
}
