// Node fork() IPC with many messages in flight: the parent keeps a window
// of W messages {"i":n} outstanding, the child echoes each one.
// Usage: node node_ipc_pipelined.js [N] [W]
// Prints: peer=node op=ipc-pipelined n=N window=W secs=S rate=R/s
const { fork } = require('child_process');
if (process.argv[2] === 'child') {
  process.on('message', (m) => process.send(m));
  return;
}
const N = +process.argv[2] || 200000;
const W = +process.argv[3] || 64;
const child = fork(__filename, ['child']);
let sent = 0, got = 0, t0;
function fill() { while (sent < N && sent - got < W) child.send({ i: sent++ }); }
child.on('message', (m) => {
  if (m.i !== got) throw new Error('order ' + m.i + ' ' + got);
  got++;
  if (got === N) {
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(`peer=node op=ipc-pipelined n=${N} window=${W} secs=${s.toFixed(3)} rate=${(N / s).toFixed(0)}/s`);
    child.disconnect();
    return;
  }
  fill();
});
child.on('spawn', () => setTimeout(() => { t0 = process.hrtime.bigint(); fill(); }, 300));
