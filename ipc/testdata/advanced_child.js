// Node child for the Go parent's advanced-serialization tests: answers
// {op: 'get', name} with that case's value alone (so that the frame is
// Node's serialization of it), and {op: 'check', name, value} with
// {name, equal, same}: whether the value equals the case's (as the
// cases' same says), and serializes as the case's value does once it
// went through a channel.
const { cases, serialize, received, same } = require('./advanced_cases.js');
process.on('message', (m) => {
  const c = cases[m.name];
  if (m.op === 'get') {
    process.send(c.value());
    return;
  }
  const want = (c.back || c.value)();
  process.send({
    name: m.name,
    equal: same(m.value, want),
    same: serialize(m.value).equals(serialize(received(want))),
  });
});
process.on('disconnect', () => process.exit(0));
