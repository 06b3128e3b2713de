// Fault: {leak: N} keeps N more bytes (touched, so they count in RSS) and answers {kept, rss}; other tasks are {a, b} -> a + b.
const { serve } = require('../node/worker.js');

const kept = [];
let total = 0;

serve((req) => {
  if (req.leak === undefined) return req.a + req.b;
  kept.push(Buffer.alloc(req.leak, 1));
  total += req.leak;
  return { kept: total, rss: process.memoryUsage.rss() };
});
