// Prints every case of advanced_cases.js as JSON: name → the hex of
// Node's child_process serialization of its value (payload, no length).
const { cases, serialize } = require('./advanced_cases.js');
const out = {};
for (const [name, c] of Object.entries(cases)) out[name] = serialize(c.value()).toString('hex');
process.stdout.write(JSON.stringify(out));
