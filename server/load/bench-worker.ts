// One load process of `npm run bench:server`, forked with an IPC channel so the server's CPU is
// never charged with the load generator's work. The bench sends {task}; the worker sets the shape
// up and answers {ready}; then 'start' and 'stop' bracket the measured window ({result}); 'close'
// disconnects everything and exits. It exits by itself if the bench goes away.
import { prepare, type Running, type Task } from './fanout.ts';
import { toWire } from './histogram-wire.ts';

if (!process.send) {
  console.error('bench-worker runs under `npm run bench:server` (it needs an IPC channel)');
  process.exit(2);
}
const send = (msg: unknown) => process.connected && process.send!(msg);
let running: Running | null = null;

process.on('disconnect', () => process.exit(0));
process.on('message', async (msg: { task?: Task; cmd?: 'start' | 'open' | 'stop' | 'close' }) => {
  try {
    if (msg.task) {
      running = await prepare(msg.task);
      send({ ready: true });
    } else if (msg.cmd === 'start') running?.start();
    else if (msg.cmd === 'open') running?.open();
    else if (msg.cmd === 'stop') {
      const r = running!.stop();
      send({ result: { ...r, latency: toWire(r.latency) } });
    } else if (msg.cmd === 'close') {
      await Promise.race([running?.close(), new Promise((r) => setTimeout(r, 3_000))]);
      process.exit(0);
    }
  } catch (err) {
    send({ error: (err as Error).message });
  }
});
