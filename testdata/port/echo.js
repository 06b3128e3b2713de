// A module for Fork tests and examples: it echoes every message back to
// its parent, answers "argv" and "execArgv" with what node was given, and
// disconnects on "exit" (after which node, with nothing left to do, ends).
// With "--hello" among its arguments it first prints "hello" to stdout.
'use strict';

if (process.argv.includes('--hello')) {
  process.stdout.write('hello\n');
}

process.on('message', (msg) => {
  switch (msg) {
    case 'exit':
      process.disconnect();
      break;
    case 'argv':
      process.send(process.argv.slice(2));
      break;
    case 'execArgv':
      process.send(process.execArgv);
      break;
    default:
      process.send(msg);
  }
});
