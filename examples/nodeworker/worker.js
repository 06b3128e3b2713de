// A Node worker for examples/nodeworker: squares numbers sent by its Go
// parent, and stops when the parent disconnects.
process.on('message', (m) => {
  process.send({ n: m.n, square: m.n * m.n, from: 'node ' + process.version });
});
