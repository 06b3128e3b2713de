// Not a pool worker: answers {"pool":"task"} with process.send alone, the floor for the benchmarks.
process.send({ pool: 'ready', protocol: 1 });
process.on('message', (m) => process.send({ pool: 'result', id: m.id, value: m.value.a + m.value.b }));
