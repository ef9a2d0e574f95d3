// `npm run bench:ring [-- --target labs|solutions] [--write]` — how many messages per second reach
// the main thread from producer worker threads: through the stage-06 lock-free rings versus through
// postMessage. Each producer sends the same 8-byte message (producer id, sequence number) either
// way. --target labs (the default) measures your labs/06-ring; the docs' chart is
// `--target solutions --write`.
import { Worker } from 'node:worker_threads';
import type { startProducers as StartProducers } from '../../solutions/06-ring/producers.ts';
import { printTable, writeChartData } from './chart-data.ts';
import { announce, benchArgs, closing, requireFinished } from './target.ts';

const PER_PRODUCER = Number(process.env.RING_BENCH_MESSAGES ?? 250_000);
const PRODUCER_COUNTS = (process.env.RING_BENCH_PRODUCERS ?? '1,2,4').split(',').map(Number);

const args = benchArgs('bench:ring', 'messages per second through the stage-06 ring between threads, against postMessage');
announce(args, 'the SPSC ring and FanIn (06-ring/ring.ts, fan-in.ts)');
const { startProducers } = (await import(args.stageFile('06-ring/producers.ts'))) as { startProducers: typeof StartProducers };
const { SpscRing, Doorbell } = (await import(args.stageFile('06-ring/ring.ts'))) as typeof import('../../solutions/06-ring/ring.ts');
const { FanIn } = (await import(args.stageFile('06-ring/fan-in.ts'))) as typeof import('../../solutions/06-ring/fan-in.ts');
// On this thread first: an unfinished ring or FanIn fails here with a plain message, not inside a
// worker thread with a stack (or a hang).
await requireFinished(args, '06-ring', async () => {
  const bell = new Doorbell();
  const ring = SpscRing.create(4, 8, bell);
  const fanIn = new FanIn([ring], bell);
  let got = 0;
  for (let i = 0; i < 3; i++) if (!ring.push(Uint8Array.of(i))) throw new Error('push into an empty ring returned false');
  const finished = fanIn.run(() => void got++, () => got >= 3);
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('FanIn.run did not deliver 3 waiting messages within 2 s')), 2000).unref());
  await Promise.race([finished, timeout]);
});

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
const written = !args.write
  ? null
  : writeChartData('ring', {
      command: 'npm run bench:ring -- --target solutions --write',
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
closing(args, written);
