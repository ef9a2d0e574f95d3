// `npm run bench:ring` — how many messages per second reach the main thread from producer worker
// threads: through the stage-06 lock-free rings (solutions/06-ring) versus through postMessage.
// Each producer sends the same 8-byte message (producer id, sequence number) either way.
import { Worker } from 'node:worker_threads';
import { startProducers } from '../../solutions/06-ring/producers.ts';
import { printTable, writeChartData } from './chart-data.ts';

const PER_PRODUCER = Number(process.env.RING_BENCH_MESSAGES ?? 250_000);
const PRODUCER_COUNTS = [1, 2, 4];

async function viaRing(producers: number): Promise<number> {
  const run = startProducers({ producers, perProducer: PER_PRODUCER, capacity: 4096, delayMs: 0 });
  // Worker start-up (loading TypeScript) is not what we measure: wait until the first message.
  const total = producers * PER_PRODUCER;
  let received = 0;
  let start = 0;
  await run.fanIn.run(
    () => {
      if (received++ === 0) start = performance.now();
    },
    () => received >= total,
  );
  const elapsed = performance.now() - start;
  await run.finished;
  await Promise.all(run.workers.map((w) => w.terminate()));
  return (total - 1) / (elapsed / 1000);
}

// The postMessage producer: plain JS, so it needs no TypeScript loader.
const POST_PRODUCER = `
const { parentPort, workerData } = require('node:worker_threads');
const message = new Uint8Array(8);
const view = new DataView(message.buffer);
view.setUint32(0, workerData.producer, true);
for (let seq = 0; seq < workerData.count; seq++) {
  view.setUint32(4, seq, true);
  parentPort.postMessage(message);
}`;

async function viaPostMessage(producers: number): Promise<number> {
  const total = producers * PER_PRODUCER;
  let received = 0;
  let start = 0;
  const workers: Worker[] = [];
  await new Promise<void>((resolve) => {
    for (let producer = 0; producer < producers; producer++) {
      const worker = new Worker(POST_PRODUCER, { eval: true, workerData: { producer, count: PER_PRODUCER } });
      worker.on('message', () => {
        if (received++ === 0) start = performance.now();
        if (received === total) resolve();
      });
      workers.push(worker);
    }
  });
  const elapsed = performance.now() - start;
  await Promise.all(workers.map((w) => w.terminate()));
  return (total - 1) / (elapsed / 1000);
}

const rows: Array<[number, number, number]> = [];
for (const producers of PRODUCER_COUNTS) {
  const ring = await viaRing(producers);
  const post = await viaPostMessage(producers);
  rows.push([producers, Math.round(ring), Math.round(post)]);
}

const columns = ['producers', 'ring msg/s', 'postMessage msg/s', 'ring ÷ postMessage'];
const table = rows.map(([p, r, m]) => [p, r, m, `${(r / m).toFixed(1)}×`]);
printTable(columns, table);
const file = writeChartData('ring', {
  command: 'npm run bench:ring',
  notes: `${PER_PRODUCER.toLocaleString('en-US')} messages of 8 bytes per producer; one consumer on the main thread; worker start-up excluded.`,
  charts: [
    {
      id: 'ring-vs-postmessage',
      title: 'Messages per second from worker threads to the main thread',
      x: { label: 'producer threads' },
      y: { label: 'messages per second', scale: 'log' },
      series: [
        { name: 'SPSC ring (SharedArrayBuffer)', points: rows.map(([p, r]) => [p, r]) },
        { name: 'postMessage', points: rows.map(([p, , m]) => [p, m]) },
      ],
    },
  ],
  table: { columns, rows: table },
});
console.log(`\nwrote ${file}`);
