// The smallest Node worker: {a, b} -> a + b.
const { serve } = require('../node/worker.js');

serve(({ a, b }) => a + b);
