// Fault: {hang: true} never answers and ignores cancel (a timer keeps it busy), {hang: "busy"} spins the CPU forever (the event loop blocked); other tasks are {a, b} -> a + b. With the argument --ignore-term, SIGTERM is ignored too.
const { serve } = require('../node/worker.js');

if (process.argv.includes('--ignore-term')) process.on('SIGTERM', () => {});

serve((req) => {
  if (req.hang === 'busy') for (;;);
  if (req.hang) {
    setInterval(() => {}, 1 << 30);
    return new Promise(() => {});
  }
  return req.a + req.b;
});
