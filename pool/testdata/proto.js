// The protocol tests' worker: req.op picks what the handler does (see the cases).
const { serve, recycle } = require('../node/worker.js');

class CustomError extends Error {}

let waiting = 0; // barrier tasks started
const barrier = [];

serve(async (req, { signal, id }) => {
  switch (req.op) {
    case 'add':
      return req.a + req.b;
    case 'echo':
      return req.value;
    case 'id':
      return id;
    case 'undefined':
      return undefined;
    case 'sync-throw': // thrown before the handler's first await
      throw new RangeError(req.message);
    case 'throw':
      await null;
      throw new TypeError(req.message);
    case 'throw-custom':
      throw new CustomError('custom');
    case 'throw-value':
      throw 42;
    case 'bigint':
      return 1n;
    case 'cycle': {
      const o = {};
      o.self = o;
      return o;
    }
    case 'barrier': // answers once req.n barrier tasks are running at the same time
      waiting++;
      await new Promise((resolve, reject) => {
        barrier.push(resolve);
        if (waiting >= req.n) for (const r of barrier.splice(0)) r();
        setTimeout(() => reject(new Error(`barrier: only ${waiting} of ${req.n} tasks ran at once`)), 20000).unref();
      });
      return id;
    case 'sleep':
      await new Promise((resolve) => setTimeout(resolve, req.ms));
      return req.ms;
    case 'wait-cancel': // answers AbortError once cancelled
      await new Promise((resolve, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener('abort', () => reject(signal.reason));
      });
      return 'not reached';
    case 'finish-anyway': // answers a result once cancelled
      await new Promise((resolve) => signal.addEventListener('abort', resolve));
      return 'finished anyway';
    case 'print':
      console.log(req.text);
      process.stdout.write('no newline, ');
      return 'printed';
    case 'recycle':
      recycle(req.reason);
      return 'asked';
    case 'foreign':
      process.send({ hello: 'not a pool message' });
      process.send({ pool: 'bogus', id });
      return 'after foreign';
    case 'linger': // ignores its signal; a timer keeps the process alive
      setInterval(() => {}, 1000);
      return new Promise(() => {});
  }
  throw new Error('unknown op ' + req.op);
});
