// `npm run bench:pool [-- --target labs|solutions] [--write]` — the read path of a chat storm, with
// and without the stage-05 buffer pool. Every message is "read" into a 4 KiB buffer, checked, and
// held while it is routed (a window of messages in flight), then let go: either dropped for the
// collector (no pool) or released to the pool. Reported: collections, their total time, heap
// growth, throughput. The storm itself is `storm()` of labs/08-profile/workloads.ts, so stage 08
// can wrap the very same run in its harness. --target labs (the default) measures your
// labs/05-pool; the docs' chart is `--target solutions --write`.
import { PerformanceObserver, performance, type PerformanceEntry } from 'node:perf_hooks';
import { printTable, writeChartData } from './chart-data.ts';
import { announce, benchArgs, closing, requireFinished } from './target.ts';
import type { ChunkPool, storm as Storm } from '../../solutions/08-profile/workloads.ts';

const MESSAGES = Number(process.env.POOL_BENCH_MESSAGES ?? 400_000);
const IN_FLIGHT = [16, 256, 2048];
const CHUNK = 4096;

interface Run {
  gcCount: number;
  gcMs: number;
  heapGrowthMiB: number;
  messagesPerSecond: number;
}

const args = benchArgs('bench:pool', 'the read path of a chat storm with and without the stage-05 buffer pool: collections, GC time, heap, throughput');
announce(args, "stage 05's BufferPool (05-pool/pool.ts)");
type PoolClass = new (options: { chunkSize: number; chunksPerSlab: number; onExhausted: 'null' }) => ChunkPool;
const { BufferPool } = (await import(args.stageFile('05-pool/pool.ts'))) as { BufferPool: PoolClass };
const { storm, STORM_CHUNK_BYTES } = (await import(args.stageFile('08-profile/workloads.ts'))) as { storm: typeof Storm; STORM_CHUNK_BYTES: number };
await requireFinished(args, '05-pool', () => {
  const pool = new BufferPool({ chunkSize: CHUNK, chunksPerSlab: 4, onExhausted: 'null' });
  storm({ messages: 16, inFlight: 4, pool });
});

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
  const plain = await measure(() => storm({ messages: MESSAGES, inFlight }));
  const pool = new BufferPool({ chunkSize: CHUNK, chunksPerSlab: inFlight, onExhausted: 'null' });
  const pooled = await measure(() => storm({ messages: MESSAGES, inFlight, pool }));
  results.push({ inFlight, plain, pooled });
  for (const [name, r] of [['no pool', plain], ['pool', pooled]] as const) {
    rows.push([inFlight, name, r.gcCount, Number(r.gcMs.toFixed(1)), Number(r.heapGrowthMiB.toFixed(1)), Math.round(r.messagesPerSecond)]);
  }
}

printTable(columns, rows);
const written = !args.write
  ? null
  : writeChartData('pool', {
      command: 'npm run bench:pool -- --target solutions --write',
      notes: `${MESSAGES.toLocaleString('en-US')} messages read into ${STORM_CHUNK_BYTES / 1024} KiB buffers; "in flight" = messages held while being routed. Heap growth = heapUsed + arrayBuffers after minus before (no forced GC).`,
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
closing(args, written);
