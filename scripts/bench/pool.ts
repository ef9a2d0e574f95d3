// `npm run bench:pool` — the read path of a chat storm, with and without the stage-05 buffer pool
// (solutions/05-pool). Every message is "read" into a 4 KiB buffer, checked, and held while it is
// routed (a window of messages in flight), then let go: either dropped for the collector (no pool)
// or released to the pool. Reported: collections, their total time, heap growth, throughput.
import { PerformanceObserver, performance, type PerformanceEntry } from 'node:perf_hooks';
import { BufferPool } from '../../solutions/05-pool/pool.ts';
import { printTable, writeChartData } from './chart-data.ts';

const MESSAGES = Number(process.env.POOL_BENCH_MESSAGES ?? 400_000);
const IN_FLIGHT = [16, 256, 2048];
const CHUNK = 4096;

const payload = new TextEncoder().encode(
  JSON.stringify({ from: 'alice', to: '#lobby', text: 'a chat storm: everybody talks at once, '.repeat(8) }),
);

interface Run {
  gcCount: number;
  gcMs: number;
  heapGrowthMiB: number;
  messagesPerSecond: number;
}

/** One storm: `acquire` gives a buffer, `release` takes it back (a no-op without a pool). */
function storm(inFlight: number, acquire: () => Uint8Array, release: (b: Uint8Array) => void): number {
  const window: Uint8Array[] = new Array(inFlight);
  let checksum = 0;
  for (let i = 0; i < MESSAGES; i++) {
    const buffer = acquire();
    buffer.set(payload, 4); // the "read": bytes land after a 4-byte length header
    buffer[0] = payload.length >>> 24;
    buffer[3] = payload.length & 0xff;
    checksum = (checksum + buffer[4 + (i % payload.length)]!) | 0;
    const slot = i % inFlight;
    if (window[slot]) release(window[slot]!); // the oldest message has been routed
    window[slot] = buffer;
  }
  for (const b of window) if (b) release(b);
  return checksum;
}

async function measure(run: () => number): Promise<Run> {
  const entries: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  const heapBefore = process.memoryUsage();
  const start = performance.now();
  run();
  const end = performance.now();
  const heapAfter = process.memoryUsage();
  await new Promise((r) => setTimeout(r, 20));
  entries.push(...observer.takeRecords());
  observer.disconnect();
  const during = entries.filter((e) => e.startTime >= start && e.startTime <= end);
  const growth = heapAfter.heapUsed + heapAfter.arrayBuffers - (heapBefore.heapUsed + heapBefore.arrayBuffers);
  return {
    gcCount: during.length,
    gcMs: during.reduce((s, e) => s + e.duration, 0),
    heapGrowthMiB: growth / 2 ** 20,
    messagesPerSecond: MESSAGES / ((end - start) / 1000),
  };
}

const columns = ['in flight', 'variant', 'collections', 'GC ms', 'heap growth MiB', 'messages/s'];
const rows: Array<Array<string | number>> = [];
const results: Array<{ inFlight: number; plain: Run; pooled: Run }> = [];
for (const inFlight of IN_FLIGHT) {
  const plain = await measure(() => storm(inFlight, () => new Uint8Array(CHUNK), () => {}));
  // Pooled: a handle per buffer, kept beside it so release() gets the handle back.
  const pool = new BufferPool({ chunkSize: CHUNK, chunksPerSlab: inFlight + 1, onExhausted: 'null' });
  const handleOf = new Map<Uint8Array, number>();
  const pooled = await measure(() =>
    storm(
      inFlight,
      () => {
        const h = pool.acquire()!;
        const bytes = pool.bytes(h);
        handleOf.set(bytes, h);
        return bytes;
      },
      (bytes) => pool.release(handleOf.get(bytes)!),
    ),
  );
  results.push({ inFlight, plain, pooled });
  for (const [name, r] of [['no pool', plain], ['pool', pooled]] as const) {
    rows.push([inFlight, name, r.gcCount, Number(r.gcMs.toFixed(1)), Number(r.heapGrowthMiB.toFixed(1)), Math.round(r.messagesPerSecond)]);
  }
}

printTable(columns, rows);
const file = writeChartData('pool', {
  command: 'npm run bench:pool',
  notes: `${MESSAGES.toLocaleString('en-US')} messages of ${payload.length + 4} bytes read into 4 KiB buffers; "in flight" = messages held while being routed. Heap growth = heapUsed + arrayBuffers after minus before (no forced GC).`,
  charts: [
    {
      id: 'pool-gc-time',
      title: 'Time spent in garbage collection during the storm',
      x: { label: 'messages in flight', scale: 'log' },
      y: { label: 'GC time (ms)' },
      series: [
        { name: 'no pool', points: results.map((r) => [r.inFlight, Number(r.plain.gcMs.toFixed(1))]) },
        { name: 'pool', points: results.map((r) => [r.inFlight, Number(r.pooled.gcMs.toFixed(1))]) },
      ],
    },
    {
      id: 'pool-throughput',
      title: 'Messages per second through the read path',
      x: { label: 'messages in flight', scale: 'log' },
      y: { label: 'messages per second' },
      series: [
        { name: 'no pool', points: results.map((r) => [r.inFlight, Math.round(r.plain.messagesPerSecond)]) },
        { name: 'pool', points: results.map((r) => [r.inFlight, Math.round(r.pooled.messagesPerSecond)]) },
      ],
    },
  ],
  table: { columns, rows },
});
console.log(`\nwrote ${file}`);
