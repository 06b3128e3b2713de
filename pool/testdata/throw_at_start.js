// Fault: throws while the module loads, before serve (node exits with status 1).
require('../node/worker.js');
throw new Error('throw_at_start: thrown while loading');
