// The smallest Node worker as an ES module: {a, b} -> a + b.
import { serve } from '../node/worker.js';

serve(({ a, b }) => a + b);
