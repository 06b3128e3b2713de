// Fault: {crash: true} writes a line on stderr and exits with status 7 mid-task; other tasks are {a, b} -> a + b.
const { serve } = require('../node/worker.js');

serve((req) => {
  if (req.crash) {
    process.stderr.write(`crash: exiting on task with pid ${process.pid}\n`);
    process.exit(7);
  }
  return req.a + req.b;
});
