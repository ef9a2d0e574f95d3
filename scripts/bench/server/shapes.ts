// One measurement = one shape against one running system: set the load up in separate processes,
// read the server tree's CPU counters, open the window, close it after `seconds`, read them again.
import type { Task } from '../../../server/load/fanout.ts';
import { LoadGroup, type LoadTotals } from './load.ts';
import { cpuBetween, cpuByPid, processTree, rssBytes, RssSampler, systemCpuByPid } from './proc.ts';
import { SyscallCounter } from './strace.ts';
import type { RunningSystem } from './systems.ts';
import { Storm } from '../../../server/load/storm.ts';
import type { StormRow } from './report.ts';

export interface FanoutOptions {
  rooms: number;
  members: number;
  publishers: number;
  window: number;
  size: number;
  seconds: number;
  loadProcs: number;
}

export interface Window {
  load: LoadTotals;
  /** The window on CLOCK_MONOTONIC, in µs (to cut CPU profiles to it). */
  windowUs: [number, number];
  /** Server CPU seconds in the window (all processes and threads of the tree). */
  cpuS: number;
  /** Of cpuS, the seconds spent in the kernel (system calls, the loopback's TCP work): stime. */
  systemS?: number;
  peakRssBytes: number;
}

/** Traffic runs this long before the window opens (JIT warm-up, queues reach their steady state). */
export const WARMUP_MS = 1_000;

const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let runNo = 0;
const prefix = () => `b${Date.now().toString(36)}${runNo++}_`;

/** Deals rooms to at most `procs` load processes, round-robin. */
export function dealRooms(rooms: number, procs: number): number[][] {
  const n = Math.max(1, Math.min(procs, rooms));
  return Array.from({ length: n }, (_, k) => Array.from({ length: rooms }, (_, r) => r).filter((r) => r % n === k));
}

export function fanoutTasks(sys: RunningSystem, o: FanoutOptions): Task[] {
  const p = prefix();
  return dealRooms(o.rooms, o.loadProcs).map((rooms, k) => ({
    shape: 'fanout',
    protocol: sys.spec.kind === 'redis' ? 'redis' : 'wizz',
    port: sys.port,
    rooms,
    members: o.members,
    publishers: o.publishers,
    window: o.window,
    size: o.size,
    prefix: `${p}${k}`,
  }));
}

export function dmTasks(sys: RunningSystem, senders: number, size: number, loadProcs: number): Task[] {
  // DM partners are in the same load process (i → i+1), so split senders into whole groups.
  const procs = Math.max(1, Math.min(loadProcs, Math.floor(senders / 2)));
  const p = prefix();
  return Array.from({ length: procs }, (_, k) => ({
    shape: 'dm',
    protocol: 'wizz',
    port: sys.port,
    senders: Math.floor(senders / procs) + (k < senders % procs ? 1 : 0),
    size,
    prefix: `${p}${k}`,
  }));
}

/** Measures `tasks` against `sys` for `seconds`; with `syscalls`, under strace instead (ratios only). */
export async function measure(sys: RunningSystem, tasks: Task[], seconds: number, straceDir?: { dir: string; syscalls: string[] }): Promise<Window & { syscalls?: Record<string, number> }> {
  const load = await LoadGroup.start(tasks);
  try {
    await sleep(300); // let set-up traffic settle
    const tree = processTree(sys.pid);
    const strace = straceDir ? await SyscallCounter.attach(tree, straceDir.syscalls, straceDir.dir) : null;
    const rss = new RssSampler(sys.pid);
    load.start();
    await sleep(WARMUP_MS);
    const before = cpuByPid(tree);
    const systemBefore = systemCpuByPid(tree);
    const from = monotonicUs();
    load.open();
    await sleep(seconds * 1000);
    const treeAfter = processTree(sys.pid);
    const after = cpuByPid(treeAfter);
    const systemAfter = systemCpuByPid(treeAfter);
    const to = monotonicUs();
    const totals = await load.stop();
    const peak = rss.stop();
    const syscalls = strace ? await strace.stop() : undefined;
    return { load: totals, windowUs: [from, to], cpuS: cpuBetween(before, after), systemS: cpuBetween(systemBefore, systemAfter), peakRssBytes: peak, syscalls };
  } finally {
    await load.close();
  }
}

export interface ConnectionsResult extends Window {
  count: number;
  held: number;
  rssPerConnBytes: number;
  /** CPU seconds the load processes used in the window (they share the machine with the server). */
  loadCpuS: number;
}

/** Opens `count` idle connections, measures the RSS they cost, then PINGs each once a second. */
export async function connections(sys: RunningSystem, count: number, seconds: number, perProcess: number): Promise<ConnectionsResult> {
  await sleep(500);
  const rssBefore = rssBytes(processTree(sys.pid));
  const procs = Math.max(2, Math.ceil(count / perProcess)); // at least two: the load is spread over processes
  const tasks: Task[] = Array.from({ length: procs }, (_, k) => ({
    shape: 'connections',
    protocol: sys.spec.kind === 'redis' ? 'redis' : 'wizz',
    port: sys.port,
    count: Math.floor(count / procs) + (k < count % procs ? 1 : 0),
    block: k + 1,
    perAddress: 10_000,
  }));
  const load = await LoadGroup.start(tasks, 300);
  try {
    await sleep(1_000);
    const rssIdle = rssBytes(processTree(sys.pid));
    const tree = processTree(sys.pid);
    const rss = new RssSampler(sys.pid);
    load.start();
    await sleep(WARMUP_MS);
    const before = cpuByPid(tree);
    const loadBefore = cpuByPid(load.pids());
    const from = monotonicUs();
    load.open();
    await sleep(seconds * 1000);
    const after = cpuByPid(processTree(sys.pid));
    const loadAfter = cpuByPid(load.pids());
    const to = monotonicUs();
    const totals = await load.stop();
    const peak = rss.stop();
    return {
      loadCpuS: cpuBetween(loadBefore, loadAfter),
      load: totals,
      windowUs: [from, to],
      cpuS: cpuBetween(before, after),
      peakRssBytes: peak,
      count,
      held: totals.open,
      // Divided by what the server held when rssIdle was read: every connection it had answered.
      rssPerConnBytes: totals.established > 0 ? (rssIdle - rssBefore) / totals.established : NaN,
    };
  } finally {
    await load.close();
  }
}

/**
 * The reconnect storm: `clients` users log in (once each), then every connection drops at the
 * same moment and every client comes back with RESUME. Server CPU is read over the storm alone
 * (the drop, the reconnects, the RESUMEs); the clients run in this process.
 */
export async function reconnectStorm(sys: RunningSystem, clients: number, say: (what: string) => void): Promise<StormRow> {
  const storm = await Storm.prepare({ port: sys.port, clients, prefix: prefix() });
  try {
    say(`reconnect storm: ${clients.toLocaleString('en-US')} logged in; dropping them all…`);
    await sleep(500);
    const tree = processTree(sys.pid);
    const before = cpuByPid(tree);
    await storm.drop();
    const r = await storm.comeBack();
    const after = cpuByPid(processTree(sys.pid));
    const cpuS = cpuBetween(before, after);
    const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
    return {
      clients: r.clients,
      back: r.back,
      seconds: r.seconds,
      resumesPerS: r.resumesPerS,
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
      cpuS,
      cpuUsPerResume: r.back > 0 ? (cpuS / r.back) * 1e6 : NaN,
      errors,
      errorKinds: r.errors,
    };
  } finally {
    await storm.close();
  }
}
