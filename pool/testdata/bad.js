// Fault: breaks the protocol on demand. {bad: "malformed"} writes a line that is not JSON, "unknown-id" answers id+1000000 instead, "duplicate" answers twice, "no-id" answers without an id, "huge" answers a string of `size` bytes, "foreign" sends a non-pool message and an unknown kind before the right answer; other tasks are {a, b} -> a + b.
const fs = require('node:fs');
const { serve } = require('../node/worker.js');

// The channel's descriptor, for bytes that process.send would never write.
const channelFd = process.channel.fd;

serve((req, { id }) => {
  switch (req.bad) {
    case 'malformed':
      fs.writeSync(channelFd, 'this is not JSON\n');
      return new Promise(() => {});
    case 'unknown-id':
      process.send({ pool: 'result', id: id + 1000000, value: 'for nobody' });
      return new Promise(() => {});
    case 'duplicate':
      process.send({ pool: 'result', id, value: 'first' });
      return 'second';
    case 'no-id':
      process.send({ pool: 'result', value: 'no id' });
      return new Promise(() => {});
    case 'huge':
      return 'x'.repeat(req.size);
    case 'foreign':
      process.send({ hello: 'not a pool message' });
      process.send({ pool: 'bogus', id });
      return 'after foreign';
  }
  return req.a + req.b;
});
