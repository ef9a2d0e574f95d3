// The bench's results as one table (ratios to the reference server, 1 reactor), the list of the
// issue's targets with measured values, and the JSON the docs page charts.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Chart, ChartData } from '../chart-data.ts';
import type { StormRound } from '../../../server/load/storm.ts';

export interface FanoutRow {
  deliveredPerS: number;
  cpuS: number;
  perCpuS: number;
  p50: number;
  p99: number;
  peakRssMiB: number;
  errors: number;
  writesPerDelivery: number | null;
  /** Server CPU per delivery (ns) split into its own code (utime) and the kernel's (stime): where a gap comes from. */
  userNsPerDelivery?: number;
  systemNsPerDelivery?: number;
}

export interface DmLevel {
  senders: number;
  ackedPerS: number;
  p50: number;
  p99: number;
  cpuS: number;
  errors: number;
}

export interface ConnectionsRow {
  count: number;
  held: number;
  rssPerConnKB: number;
  pingP99: number;
  /** Server CPU seconds in the PING window, and per PING answered (µs): the fair figure when the machine is shared. */
  cpuS?: number;
  cpuUsPerPing?: number;
  /** The load processes' CPU seconds in the same window, and the window's length. */
  loadCpuS?: number;
  seconds?: number;
  errors: number;
  /** The errors by kind: server_full (refused), closed_by_server, never_answered (a silent hang), no_answer_within_1s (late), connect_failed. */
  errorKinds?: Record<string, number>;
}

/**
 * The reconnect storm: logged-in clients drop at once and come back with RESUME. One round as
 * server/load/storm.ts measures it, with the server's CPU beside it and the errors counted.
 */
export type StormRow = Omit<StormRound, 'errors'> & {
  /** Server CPU seconds during the storm, and per resume (µs). */
  cpuS: number;
  cpuUsPerResume: number;
  errors: number;
  errorKinds?: Record<string, number>;
};

export interface SystemResult {
  name: string;
  kind: 'reference' | 'baseline' | 'redis';
  reactors?: number;
  fanout?: FanoutRow;
  dm?: { levels: DmLevel[]; dmsPerFsync: number | null };
  connections?: ConnectionsRow;
  storm?: StormRow;
  /** Why a shape was not measured on this system. */
  notes: string[];
}

export interface Target {
  target: string;
  measured: string;
  met: boolean | null;
  /** How far from the target, when missed (or null). */
  gap: string | null;
}

const r1 = (x: number) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : NaN);
const r2 = (x: number) => (Number.isFinite(x) ? Math.round(x * 100) / 100 : NaN);
const r3 = (x: number) => (Number.isFinite(x) ? Math.round(x * 1000) / 1000 : NaN);
const k = (x: number) => (x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(0)} K` : x.toFixed(0));
const dash = (x: number | null | undefined, f: (x: number) => string | number = (v) => v): string | number =>
  x === null || x === undefined || !Number.isFinite(x) ? '—' : f(x);

export const COLUMNS = [
  'system',
  'fan-out msgs/s',
  '× ref',
  'CPU s',
  'per CPU-s',
  '× ref',
  'p50 ms',
  'p99 ms',
  'peak RSS MiB',
  'writes/delivery',
  'DMs/s (1 → N senders)',
  'DMs per fsync',
  'connections held',
  'KB per idle conn',
  'PING p99 ms',
  'CPU µs per PING',
  'storm: all back in s',
  'resumes/s',
  'CPU µs per resume',
  'errors',
];

export function tableRows(results: SystemResult[]): Array<Array<string | number>> {
  const ref = results.find((r) => r.kind === 'reference' && r.reactors === 1)?.fanout;
  return results.map((r) => {
    const f = r.fanout;
    const dm = r.dm?.levels;
    const c = r.connections;
    const s = r.storm;
    const errors = (f?.errors ?? 0) + (dm?.reduce((sum, l) => sum + l.errors, 0) ?? 0) + (c?.errors ?? 0) + (s?.errors ?? 0);
    return [
      r.name,
      dash(f?.deliveredPerS, Math.round),
      dash(f && ref ? f.deliveredPerS / ref.deliveredPerS : null, r2),
      dash(f?.cpuS, r2),
      dash(f?.perCpuS, Math.round),
      dash(f && ref ? f.perCpuS / ref.perCpuS : null, r2),
      dash(f?.p50, r1),
      dash(f?.p99, r1),
      dash(f?.peakRssMiB, r1),
      dash(f?.writesPerDelivery, r3),
      dm && dm.length ? dm.map((l) => Math.round(l.ackedPerS).toLocaleString('en-US')).join(' → ') : '—',
      dash(r.dm?.dmsPerFsync, r1),
      c ? `${c.held.toLocaleString('en-US')} / ${c.count.toLocaleString('en-US')}` : '—',
      dash(c?.rssPerConnKB, r1),
      dash(c?.pingP99, r1),
      dash(c?.cpuUsPerPing, Math.round),
      s ? `${r2(s.seconds)} (${s.back.toLocaleString('en-US')} / ${s.clients.toLocaleString('en-US')})` : '—',
      dash(s?.resumesPerS, Math.round),
      dash(s?.cpuUsPerResume, Math.round),
      errors,
    ];
  });
}

/** The issue's targets, each with what this run measured. */
export function targets(results: SystemResult[], connectionsAsked: number): Target[] {
  const out: Target[] = [];
  const ref1 = results.find((r) => r.kind === 'reference' && r.reactors === 1);
  const refN = results.find((r) => r.kind === 'reference' && (r.reactors ?? 1) > 1);
  const redis = results.find((r) => r.kind === 'redis');
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  for (const ref of [ref1, refN]) {
    if (!ref?.fanout || !redis?.fanout) continue;
    const x = ref.fanout.perCpuS / redis.fanout.perCpuS;
    out.push({
      target: `room fan-out deliveries per server CPU-second ≥ 1.0× redis-server's (${ref.name})`,
      measured: `${k(ref.fanout.perCpuS)} vs ${k(redis.fanout.perCpuS)}: ${ratio(ref.fanout.perCpuS, redis.fanout.perCpuS)}`,
      met: x >= 1,
      gap: x >= 1 ? null : `${((1 - x) * 100).toFixed(0)} % short`,
    });
    const p = ref.fanout.p99 / redis.fanout.p99;
    out.push({
      target: `room fan-out p99 ≤ 1.5× redis-server's (${ref.name})`,
      measured: `${r1(ref.fanout.p99)} ms vs ${r1(redis.fanout.p99)} ms: ${p.toFixed(2)}×`,
      met: p <= 1.5,
      gap: p <= 1.5 ? null : `${(p / 1.5).toFixed(2)}× the allowed p99`,
    });
  }
  if (ref1?.fanout && refN?.fanout) {
    const x = refN.fanout.perCpuS / ref1.fanout.perCpuS;
    out.push({
      target: `${refN.reactors} reactors ≥ 0.95× one reactor's deliveries per CPU-second`,
      measured: `${k(refN.fanout.perCpuS)} vs ${k(ref1.fanout.perCpuS)}: ${x.toFixed(2)}×`,
      met: x >= 0.95,
      gap: x >= 0.95 ? null : `${((0.95 - x) * 100).toFixed(0)} points short`,
    });
  }
  const conn = refN?.connections ?? ref1?.connections;
  const connRef = refN?.connections ? refN : ref1;
  if (conn && connRef) {
    const full = conn.count >= 30_000;
    const held = conn.held === conn.count && conn.errors === 0;
    out.push({
      target: `30,000 concurrent connections, each sending once a second (a PING), zero errors (${connRef.name})`,
      measured: `${conn.held.toLocaleString('en-US')} of ${conn.count.toLocaleString('en-US')} held, ${conn.errors} errors${kinds(conn.errorKinds)}${full ? '' : ` — this run asked for ${conn.count.toLocaleString('en-US')}, not 30,000 (--connections 30000)`}`,
      met: full ? held : null,
      gap: !full ? 'not measured at 30,000' : held ? null : `${conn.count - conn.held} connections lost, ${conn.errors} errors`,
    });
    const answered = Number.isFinite(conn.pingP99);
    out.push({
      target: 'PING p99 < 50 ms with every connection sending once a second',
      measured: answered ? `${r1(conn.pingP99)} ms at ${conn.held.toLocaleString('en-US')} connections${cpuShare(conn)}` : 'no PING was answered',
      met: !answered ? false : full ? conn.pingP99 < 50 : null,
      gap: !answered ? 'no answers' : conn.pingP99 < 50 ? null : `${r1(conn.pingP99 - 50)} ms over`,
    });
    const perConn = Number.isFinite(conn.rssPerConnKB);
    out.push({
      target: '≤ 4 KB RSS per idle connection',
      measured: perConn ? `${r1(conn.rssPerConnKB)} KB` : 'not measurable: no connection was held',
      met: perConn ? conn.rssPerConnKB <= 4 : null,
      gap: !perConn || conn.rssPerConnKB <= 4 ? null : `${r1(conn.rssPerConnKB - 4)} KB over`,
    });
  }
  const storm = refN?.storm ? refN : ref1?.storm ? ref1 : undefined;
  if (storm?.storm) {
    const s = storm.storm;
    const full = s.clients >= 5_000;
    const met = s.back === s.clients && s.seconds <= 5;
    out.push({
      target: `reconnect storm: 5,000 logged-in clients dropped at once are all back (RESUME) within 5 s (${storm.name})`,
      measured: `${s.back.toLocaleString('en-US')} of ${s.clients.toLocaleString('en-US')} back in ${r2(s.seconds)} s, ${Math.round(s.resumesPerS)} resumes/s, ${Math.round(s.cpuUsPerResume)} µs of server CPU per resume${kinds(s.errorKinds)}${full ? '' : ` — this run asked for ${s.clients.toLocaleString('en-US')} (--storm 5000)`}`,
      met: full ? met : null,
      gap: !full ? 'not measured at 5,000' : met ? null : s.back < s.clients ? `${s.clients - s.back} not back` : `${r2(s.seconds - 5)} s over`,
    });
  }
  for (const ref of [ref1, refN]) {
    const levels = ref?.dm?.levels;
    if (!levels || levels.length < 2) continue;
    const [lo, hi] = [levels[0]!, levels[levels.length - 1]!];
    const grows = hi.ackedPerS > lo.ackedPerS * 1.5;
    out.push({
      target: `durable DMs: group commit — acknowledged DMs/s grow with concurrency (${ref!.name})`,
      measured: `${Math.round(lo.ackedPerS)} DMs/s with ${lo.senders} sender → ${Math.round(hi.ackedPerS)} with ${hi.senders}; ${ref!.dm!.dmsPerFsync === null ? 'fsyncs not counted (no strace)' : `${r1(ref!.dm!.dmsPerFsync)} DMs per fsync`}`,
      met: grows,
      gap: grows ? null : `only ${(hi.ackedPerS / lo.ackedPerS).toFixed(2)}× for ${hi.senders / lo.senders}× the senders`,
    });
  }
  return out;
}

/** "; CPU-s per s: server 0.9 + load generator 1.0, on 2 cores": how busy the machine was with this shape alone. */
function cpuShare(c: ConnectionsRow): string {
  if (c.cpuS === undefined || c.loadCpuS === undefined || !c.seconds) return '';
  return `; CPU-s per s: server ${r2(c.cpuS / c.seconds)} + load generator ${r2(c.loadCpuS / c.seconds)}, on ${os.availableParallelism()} cores`;
}

/** " (server_full 5,025, never_answered 0)": what the errors were, largest first. */
function kinds(errorKinds: Record<string, number> | undefined): string {
  const list = Object.entries(errorKinds ?? {}).filter(([, n]) => n > 0);
  if (list.length === 0) return '';
  return ` (${list.sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n.toLocaleString('en-US')}`).join(', ')})`;
}

export function printTargets(list: Target[]): void {
  if (list.length === 0) return;
  console.log('\nTargets (issues 13 and 19):');
  for (const t of list) console.log(`  ${t.met === null ? '…' : t.met ? '✓' : '✗'} ${t.target}: ${t.measured}${t.gap ? ` (${t.gap})` : ''}`);
}

export interface Machine {
  nproc: number;
  memoryGiB: number;
  cpu: string;
  node: string;
  kernel: string;
  loadAverageAtStart: number;
}

export function machine(loadAverageAtStart: number): Machine {
  return {
    nproc: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown CPU',
    node: process.version,
    kernel: `${os.platform()} ${os.release()}`,
    loadAverageAtStart,
  };
}

export interface ServerBenchData extends ChartData {
  details: Machine & { settings: Record<string, number | string> };
  results: SystemResult[];
  targets: Target[];
}

export function charts(results: SystemResult[]): Chart[] {
  const withDm = results.filter((r) => r.dm && r.dm.levels.length > 0);
  return [
    {
      id: 'server-dm-concurrency',
      title: 'Durable DMs: acknowledged per second by concurrent senders (each OK after its fsync)',
      x: { label: 'concurrent senders (one SEND outstanding each)', scale: 'log' },
      y: { label: 'acknowledged DMs per second' },
      series: withDm.map((r) => ({ name: r.name, points: r.dm!.levels.map((l) => [l.senders, Math.round(l.ackedPerS)] as [number, number]) })),
    },
  ];
}

export function writeJson(file: string, data: ChartData & Record<string, unknown>): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
}
