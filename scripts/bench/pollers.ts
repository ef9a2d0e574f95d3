// `npm run bench:pollers [-- --target labs|solutions] [--write]`: the stage-04 server (your
// labs/04-kqueue by default; the docs' chart is the reference, `--target solutions --write`) on each
// Poller backend with 10 … 100,000 idle clients and 10 active ones. The active clients ping; the
// idle ones never send. For every wake-up of the server's loop it reports the work the kernel's
// meter counted (fds inspected, bytes copied between user and kernel memory) and the wall time;
// --write records docs/data/pollers.json for the docs' charts. select stops below its 1,024-fd wall.
//
// PING is answered to the sender only, so the work a wake-up *needs* does not depend on how many
// clients are connected: whatever grows with the idle count is the mechanism's own overhead.
//
// Wall time is the server's own: each backend's wait() is wrapped to time its synchronous part
// (building the sets or arrays, the kernel's first pass) and the dispatch that follows until the
// loop calls wait() again. The simulated clients and the virtual-clock harness are not in it.
import { performance } from 'node:perf_hooks';
import { FD_SETSIZE } from '#kernel/index.ts';
import { StageRun, type Client } from '#kit/grading.ts';
import type { BackendName, Poller, Ready } from '../../solutions/04-kqueue/poller.ts';
import { printTable, writeChartData, type Series } from './chart-data.ts';
import { announce, benchArgs, closing, requireFinished } from './target.ts';

const args = benchArgs('bench:pollers', 'the stage-04 server on each Poller backend beside 10 to 100,000 idle clients: fds inspected and CPU per wake-up');
// The stage's modules from the target (type-only imports above are erased at run time).
const { BACKENDS } = (await import(args.stageFile('04-kqueue/poller.ts'))) as typeof import('../../solutions/04-kqueue/poller.ts');
const { EpollPoller } = (await import(args.stageFile('04-kqueue/poller-epoll.ts'))) as typeof import('../../solutions/04-kqueue/poller-epoll.ts');
const { KqueuePoller } = (await import(args.stageFile('04-kqueue/poller-kqueue.ts'))) as typeof import('../../solutions/04-kqueue/poller-kqueue.ts');
const { PollPoller } = (await import(args.stageFile('04-kqueue/poller-poll.ts'))) as typeof import('../../solutions/04-kqueue/poller-poll.ts');
const { SelectPoller } = (await import(args.stageFile('04-kqueue/poller-select.ts'))) as typeof import('../../solutions/04-kqueue/poller-select.ts');
const { createServer } = (await import(args.stageFile('04-kqueue/server.ts'))) as typeof import('../../solutions/04-kqueue/server.ts');

const IDLE_COUNTS = process.env.IDLE ? process.env.IDLE.split(",").map(Number) : [10, 100, 1_000, 10_000, 100_000];
const ACTIVE = 10;
/** Rounds of "every active client pings and gets its answer" measured per configuration. */
const ROUNDS = 30;
/** Fewer rounds where one poll wake-up takes a third of a second; the median needs only a few. */
const ROUNDS_AT_100K = 6;
/** Idle clients opened per step: below the listen backlog (4,096), so none is refused. */
const OPEN_BATCH = 4_000;
/** The syscall each backend sleeps in. */
const WAIT_CALL: Record<BackendName, string> = { select: 'select', poll: 'poll', epoll: 'epoll_wait', kqueue: 'kevent' };
/** fds 0–2, the listener, then clients: select can watch clients up to fd 1023. */
const SELECT_MAX_CLIENTS = FD_SETSIZE - 4;

/** A moment on two clocks: the wall (µs) and this process's CPU time (µs, user + system). */
interface Stamp {
  wall: number;
  cpu: number;
}
function stamp(): Stamp {
  const { user, system } = process.cpuUsage();
  return { wall: performance.now() * 1000, cpu: user + system };
}

/** The server's own time for each wake-up since the last reset. */
const serverTime = {
  wall: [] as number[],
  cpu: [] as number[],
  /** The synchronous part of the current wake-up's wait() call. */
  current: null as Stamp | null,
  dispatchFrom: null as Stamp | null,
};

/**
 * Wraps wait() of a backend class. A wake-up's time = the synchronous part of the wait() call
 * (sets or arrays built, the kernel's first pass) + the dispatch of what it returned, measured from
 * the moment the server starts iterating the result to its next wait() call. (Between the two the
 * loop never awaits; the simulated clients' turns fall before the iteration starts, so they stay out.)
 * CPU time is kept beside wall time because on a busy machine the wall clock also counts the time
 * the process waited for a core.
 */
function timeWaits(backend: { prototype: Poller }): void {
  const wait = backend.prototype.wait;
  backend.prototype.wait = function (this: Poller, timeoutMs: number | null): Promise<Ready[]> {
    const called = stamp();
    const { current, dispatchFrom } = serverTime;
    if (current !== null && dispatchFrom !== null) {
      serverTime.wall.push(current.wall + called.wall - dispatchFrom.wall);
      serverTime.cpu.push(current.cpu + called.cpu - dispatchFrom.cpu);
    }
    const pending = wait.call(this, timeoutMs);
    const returned = stamp();
    serverTime.current = { wall: returned.wall - called.wall, cpu: returned.cpu - called.cpu };
    serverTime.dispatchFrom = null;
    return pending.then((ready) => {
      const iterate = ready[Symbol.iterator].bind(ready);
      return Object.assign(ready, {
        [Symbol.iterator]: () => {
          serverTime.dispatchFrom = stamp();
          return iterate();
        },
      });
    });
  };
}
for (const backend of [SelectPoller, PollPoller, EpollPoller, KqueuePoller]) timeWaits(backend);

interface Measurement {
  backend: BackendName;
  idle: number;
  wakeups: number;
  fdsPerWakeup: number;
  bytesPerWakeup: number;
  /** Medians over the measured wake-ups. */
  wallUsPerWakeup: number;
  cpuUsPerWakeup: number;
}

async function measure(backend: BackendName, idle: number): Promise<Measurement> {
  const run = new StageRun(createServer(backend));
  try {
    await openIdle(run, idle);
    const active = await run.connect(ACTIVE);
    await pingRound(run, active); // warm-up: first-use costs stay out of the numbers
    run.proc.meter.reset();
    serverTime.wall = [];
    serverTime.cpu = [];
    serverTime.current = serverTime.dispatchFrom = null;
    const rounds = idle >= 100_000 ? ROUNDS_AT_100K : ROUNDS;
    for (let round = 0; round < rounds; round++) await pingRound(run, active);
    const cost = run.proc.meter.get(WAIT_CALL[backend]);
    const wakeups = Math.max(1, cost.calls);
    return {
      backend,
      idle,
      wakeups: cost.calls,
      fdsPerWakeup: cost.fdsInspected / wakeups,
      bytesPerWakeup: cost.bytesCopied / wakeups,
      wallUsPerWakeup: median(serverTime.wall),
      cpuUsPerWakeup: median(serverTime.cpu),
    };
  } finally {
    await run.stop();
  }
}

/** Opens `n` clients that never send, in batches, and waits until the server has accepted them. */
async function openIdle(run: StageRun, n: number): Promise<void> {
  const base = run.openFds().length;
  for (let opened = 0; opened < n; ) {
    const batch = Math.min(OPEN_BATCH, n - opened);
    for (let i = 0; i < batch; i++) run.open();
    opened += batch;
    await run.waitFor(() => run.openFds().length >= base + opened, `the server to accept ${opened} idle clients`);
  }
}

/** Every active client pings; returns once each has its answer. */
async function pingRound(run: StageRun, active: Client[]): Promise<void> {
  const ids = active.map((c) => run.ping(c));
  await run.waitFor(() => active.every((c, i) => run.hasReply(c, ids[i]!)), 'every active client to get its PING answered');
}

announce(args, 'the stage-04 server on each Poller backend');
const benchStart = performance.now();
// Warm-up: let the JIT compile every backend's path before anything is recorded; an unfinished
// stage fails here, and is told so plainly.
await requireFinished(args, '04-kqueue', async () => {
  for (const backend of BACKENDS) await measure(backend, 100);
});
const results: Measurement[] = [];
for (const idle of IDLE_COUNTS) {
  for (const backend of BACKENDS) {
    if (backend === 'select' && idle + ACTIVE > SELECT_MAX_CLIENTS) continue;
    const m = await measure(backend, idle);
    results.push(m);
    process.stderr.write(
      `  ${backend.padEnd(6)} ${String(idle).padStart(7)} idle: ${m.fdsPerWakeup.toFixed(1)} fds, ` +
        `${m.cpuUsPerWakeup.toFixed(0)} µs CPU (${m.wallUsPerWakeup.toFixed(0)} µs wall) per wake-up\n`,
    );
  }
}

const find = (backend: BackendName, idle: number) => results.find((r) => r.backend === backend && r.idle === idle);
const columns = ['idle clients', ...BACKENDS.flatMap((b) => [`${b} fds`, `${b} µs`])];
const rows = IDLE_COUNTS.map((idle): Array<string | number> => [
  idle,
  ...BACKENDS.flatMap((b): Array<string | number> => {
    const m = find(b, idle);
    return m ? [round1(m.fdsPerWakeup), round1(m.cpuUsPerWakeup)] : ['n/a', 'n/a'];
  }),
]);
console.log(
  `\nPer wake-up of the stage-04 server, ${ACTIVE} active clients pinging beside the idle ones: fds inspected by the ` +
    `wait syscall (meter) and µs of CPU (median). n/a: past select's ${FD_SETSIZE}-fd wall.\n`,
);
printTable(columns, rows);

const series = (pick: (m: Measurement) => number): Series[] =>
  BACKENDS.map((b) => ({ name: b, points: results.filter((r) => r.backend === b).map((r): [number, number] => [r.idle, round1(pick(r))]) }));

const seconds = Math.round((performance.now() - benchStart) / 1000);
const written = !args.write
  ? null
  : writeChartData('pollers', {
      command: 'npm run bench:pollers -- --target solutions --write',
      notes:
        `The stage-04 solution server on each Poller backend in the emulated kernel, ${ACTIVE} active clients pinging ` +
        `(${ROUNDS} rounds; ${ROUNDS_AT_100K} at 100,000) beside 10 to 100,000 idle ones. fds inspected and bytes copied ` +
        `are the kernel meter's counts for the wait syscall (select, poll, epoll_wait, kevent), a sleeping call's ` +
        `rescan when woken included. µs are medians of the server's own time per wake-up: its wait() call's synchronous ` +
        `part (sets or arrays built, the kernel's first pass) plus the dispatch that follows — CPU time, and wall time ` +
        `in the table, which on a busy machine also counts waiting for a core. select cannot watch fd ${FD_SETSIZE} or ` +
        `above. The run took ${seconds} s.`,
      charts: [
        {
          id: 'fds-per-wakeup',
          title: 'fds inspected per wake-up',
          x: { label: 'idle clients', scale: 'log' },
          y: { label: 'fds inspected per wake-up', scale: 'log' },
          series: series((m) => m.fdsPerWakeup),
        },
        {
          id: 'us-per-wakeup',
          title: 'CPU time per wake-up (µs, emulated kernel)',
          x: { label: 'idle clients', scale: 'log' },
          y: { label: 'µs per wake-up', scale: 'log' },
          series: series((m) => m.cpuUsPerWakeup),
        },
      ],
      table: {
        columns: ['backend', 'idle clients', 'wake-ups', 'fds inspected / wake-up', 'bytes copied / wake-up', 'CPU µs / wake-up', 'wall µs / wake-up'],
        rows: results.map((m) => [
          m.backend,
          m.idle,
          m.wakeups,
          round1(m.fdsPerWakeup),
          round1(m.bytesPerWakeup),
          round1(m.cpuUsPerWakeup),
          round1(m.wallUsPerWakeup),
        ]),
      },
    });
closing(args, written);

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
