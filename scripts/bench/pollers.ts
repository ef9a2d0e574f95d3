// `npm run bench:pollers`: the stage-04 server (solutions/04-kqueue) on each Poller backend with
// 10 … 100,000 idle clients and 10 active ones. The active clients ping; the idle ones never send.
// For every wake-up of the server's loop it reports the work the kernel's meter counted (fds
// inspected, bytes copied between user and kernel memory) and the wall time, and writes
// docs/data/pollers.json for the docs' charts. select stops below its 1,024-fd wall.
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
import type { BackendName } from '../../solutions/04-kqueue/poller.ts';
import { BACKENDS, type Poller, type Ready } from '../../solutions/04-kqueue/poller.ts';
import { EpollPoller } from '../../solutions/04-kqueue/poller-epoll.ts';
import { KqueuePoller } from '../../solutions/04-kqueue/poller-kqueue.ts';
import { PollPoller } from '../../solutions/04-kqueue/poller-poll.ts';
import { SelectPoller } from '../../solutions/04-kqueue/poller-select.ts';
import { createServer } from '../../solutions/04-kqueue/server.ts';
import { printTable, writeChartData, type Series } from './chart-data.ts';

const IDLE_COUNTS = process.env.IDLE ? process.env.IDLE.split(",").map(Number) : [10, 100, 1_000, 10_000, 100_000];
const ACTIVE = 10;
/** Rounds of "every active client pings and gets its answer" measured per configuration. */
const ROUNDS = 30;
/** The syscall each backend sleeps in. */
const WAIT_CALL: Record<BackendName, string> = { select: 'select', poll: 'poll', epoll: 'epoll_wait', kqueue: 'kevent' };
/** fds 0–2, the listener, then clients: select can watch clients up to fd 1023. */
const SELECT_MAX_CLIENTS = FD_SETSIZE - 4;

/** Server-side wall time, summed over wake-ups since the last reset. */
const serverTime = { ms: 0, lastWakeAt: null as number | null };

/** Wraps wait() of a backend class: times its synchronous part and the dispatch after it. */
function timeWaits(backend: { prototype: Poller }): void {
  const wait = backend.prototype.wait;
  backend.prototype.wait = function (this: Poller, timeoutMs: number | null): Promise<Ready[]> {
    const called = performance.now();
    // Since the previous wait() resolved, the loop has only been dispatching (no await in between).
    if (serverTime.lastWakeAt !== null) serverTime.ms += called - serverTime.lastWakeAt;
    const pending = wait.call(this, timeoutMs);
    serverTime.ms += performance.now() - called;
    return pending.then((ready) => {
      serverTime.lastWakeAt = performance.now();
      return ready;
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
  usPerWakeup: number;
}

async function measure(backend: BackendName, idle: number): Promise<Measurement> {
  const run = new StageRun(createServer(backend));
  try {
    await run.connect(idle);
    const active = await run.connect(ACTIVE);
    await pingRound(run, active); // warm-up: first-use costs stay out of the numbers
    run.proc.meter.reset();
    serverTime.ms = 0;
    serverTime.lastWakeAt = null;
    for (let round = 0; round < ROUNDS; round++) await pingRound(run, active);
    const elapsedMs = serverTime.ms;
    const cost = run.proc.meter.get(WAIT_CALL[backend]);
    const wakeups = Math.max(1, cost.calls);
    return {
      backend,
      idle,
      wakeups: cost.calls,
      fdsPerWakeup: cost.fdsInspected / wakeups,
      bytesPerWakeup: cost.bytesCopied / wakeups,
      usPerWakeup: (elapsedMs * 1000) / wakeups,
    };
  } finally {
    await run.stop();
  }
}

/** Every active client pings; returns once each has its answer. */
async function pingRound(run: StageRun, active: Client[]): Promise<void> {
  const ids = active.map((c) => run.ping(c));
  await run.waitFor(() => active.every((c, i) => run.hasReply(c, ids[i]!)), 'every active client to get its PING answered');
}

const results: Measurement[] = [];
const benchStart = performance.now();
for (const idle of IDLE_COUNTS) {
  for (const backend of BACKENDS) {
    if (backend === 'select' && idle + ACTIVE > SELECT_MAX_CLIENTS) continue;
    const m = await measure(backend, idle);
    results.push(m);
    process.stderr.write(`  ${backend.padEnd(6)} ${String(idle).padStart(7)} idle: ${m.fdsPerWakeup.toFixed(1)} fds, ${m.usPerWakeup.toFixed(0)} µs per wake-up\n`);
  }
}

const find = (backend: BackendName, idle: number) => results.find((r) => r.backend === backend && r.idle === idle);
const columns = ['idle clients', ...BACKENDS.flatMap((b) => [`${b} fds/wake`, `${b} µs/wake`])];
const rows = IDLE_COUNTS.map((idle): Array<string | number> => [
  idle,
  ...BACKENDS.flatMap((b): Array<string | number> => {
    const m = find(b, idle);
    return m ? [round1(m.fdsPerWakeup), round1(m.usPerWakeup)] : ['n/a', 'n/a'];
  }),
]);
console.log(`\nPer wake-up of the stage-04 server: ${ACTIVE} active clients pinging, the rest idle (n/a: past select's ${FD_SETSIZE}-fd wall)\n`);
printTable(columns, rows);

const series = (pick: (m: Measurement) => number): Series[] =>
  BACKENDS.map((b) => ({ name: b, points: results.filter((r) => r.backend === b).map((r): [number, number] => [r.idle, round1(pick(r))]) }));

const file = writeChartData('pollers', {
  command: 'npm run bench:pollers',
  notes:
    `The stage-04 solution server on each Poller backend in the emulated kernel, ${ACTIVE} active clients pinging ` +
    `(${ROUNDS} rounds) beside 10 to 100,000 idle ones. fds inspected and bytes copied are the kernel meter's counts ` +
    `for the wait syscall (select, poll, epoll_wait, kevent); µs is the server's wall time per wake-up: its wait() ` +
    `call's synchronous part (sets or arrays built, the kernel's first pass) plus the dispatch that follows. select cannot go past fd ${FD_SETSIZE - 1}. Took ${Math.round((performance.now() - benchStart) / 1000)} s.`,
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
      title: 'Wall time per wake-up (µs, emulated kernel)',
      x: { label: 'idle clients', scale: 'log' },
      y: { label: 'µs per wake-up', scale: 'log' },
      series: series((m) => m.usPerWakeup),
    },
  ],
  table: {
    columns: ['backend', 'idle clients', 'wake-ups', 'fds inspected / wake-up', 'bytes copied / wake-up', 'µs / wake-up'],
    rows: results.map((m) => [m.backend, m.idle, m.wakeups, round1(m.fdsPerWakeup), round1(m.bytesPerWakeup), round1(m.usPerWakeup)]),
  },
});
console.log(`\nwrote ${file} in ${((performance.now() - benchStart) / 1000).toFixed(1)} s`);

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}
