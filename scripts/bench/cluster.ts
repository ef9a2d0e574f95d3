// `npm run bench:cluster [-- flags] [--write]` — the room fan-out of bench:server across 1 and 3
// wizz hosts acting as one (Redis between them, PostgreSQL as the store), each host one reactor.
// Every room's members are dealt over the hosts (member i on host i mod N), so with N > 1 every
// room message crosses Redis once per host that holds members. Reported per run: delivered msgs/s,
// p50/p99, CPU seconds of each host's processes, of redis-server and of PostgreSQL during the
// window, and deliveries per CPU-second of all of them together.
//   --hosts 1,3 --rooms 4 --members 48 --publishers 2 --window 16 --size 64 --duration 8 --load-procs 2
// --write records docs/data/cluster-bench.json (docs/server/cluster.md charts it).
import os from 'node:os';
import path from 'node:path';
import { integerFlag, parseFlags } from '../../server/util/cli.ts';
import { describeMachine, printTable, type Chart } from './chart-data.ts';
import { LoadGroup, type LoadTotals } from './server/load.ts';
import { cpuBetween, cpuByPid, loadAverage, processTree } from './server/proc.ts';
import { dealRooms, WARMUP_MS } from './server/shapes.ts';
import { writeJson } from './server/report.ts';
import { root } from './server/systems.ts';
import { startCluster, type Cluster } from '../../server/testing/cluster.ts';
import type { Task } from '../../server/load/fanout.ts';

const values = parseFlags(
  {
    hosts: { type: 'string', default: '1,3' },
    rooms: { type: 'string', default: '4' },
    members: { type: 'string', default: '48' },
    publishers: { type: 'string', default: '2' },
    window: { type: 'string', default: '16' },
    size: { type: 'string', default: '64' },
    duration: { type: 'string', default: '8' },
    'load-procs': { type: 'string', default: '2' },
    write: { type: 'boolean', default: false },
  },
  'usage: npm run bench:cluster -- [--hosts 1,3] [--rooms 4 --members 48 --publishers 2 --window 16 --size 64 --duration 8] [--load-procs 2] [--write]',
);

const num = (name: keyof typeof values, min: number, max: number) => integerFlag(name, values[name], min, max);

const hostCounts = values.hosts!.split(',').map(Number);
if (hostCounts.some((n) => !Number.isInteger(n) || n < 1 || n > 16)) {
  console.error(`--hosts must list host counts from 1 to 16, got "${values.hosts}"`);
  process.exit(2);
}
const o = {
  rooms: num('rooms', 1, 1_000),
  members: num('members', 2, 10_000),
  publishers: num('publishers', 1, 1_000),
  window: num('window', 1, 10_000),
  size: num('size', 8, 4_000),
  seconds: num('duration', 1, 600),
  loadProcs: num('load-procs', 1, 64),
};

/** The bench takes the per-user limits out of the way, as bench:server does for one host. */
const BENCH_ENV = { WIZZ_RATE_REFILL: '0', WIZZ_LOGIN_TIMEOUT: '0', WIZZ_MAX_CONNECTIONS: '1000000' };

interface Run {
  hosts: number;
  load: LoadTotals;
  hostCpuS: number[];
  redisCpuS: number;
  postgresCpuS: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tasks(cluster: Cluster, prefix: string): Task[] {
  const ports = cluster.hosts.map((h) => h.port);
  return dealRooms(o.rooms, o.loadProcs).map((rooms, k) => ({
    shape: 'fanout',
    protocol: 'wizz',
    port: ports[0]!,
    ports,
    rooms,
    members: o.members,
    publishers: o.publishers,
    window: o.window,
    size: o.size,
    prefix: `${prefix}${k}`,
  }));
}

/** CPU ticks of every process that serves: each host's tree, redis-server, PostgreSQL's tree. */
function trees(cluster: Cluster): { hosts: number[][]; redis: number[]; postgres: number[] } {
  return {
    hosts: cluster.hosts.map((h) => (h.pid === undefined ? [] : processTree(h.pid))),
    redis: cluster.redis.pid === undefined ? [] : [cluster.redis.pid],
    postgres: cluster.postgres.pid === null ? [] : processTree(cluster.postgres.pid),
  };
}

async function runOnce(hosts: number): Promise<Run> {
  const cluster = await startCluster({ hosts, network: 'localhost', env: BENCH_ENV });
  try {
    const load = await LoadGroup.start(tasks(cluster, `c${Date.now().toString(36)}h${hosts}_`));
    try {
      await sleep(300);
      load.start();
      await sleep(WARMUP_MS);
      const t = trees(cluster);
      const all = [...t.hosts.flat(), ...t.redis, ...t.postgres];
      const before = cpuByPid(all);
      load.open();
      await sleep(o.seconds * 1000);
      const after = cpuByPid(all);
      const totals = await load.stop();
      const cpuOf = (pids: number[]) => cpuBetween(pick(before, pids), pick(after, pids));
      return { hosts, load: totals, hostCpuS: t.hosts.map(cpuOf), redisCpuS: cpuOf(t.redis), postgresCpuS: cpuOf(t.postgres) };
    } finally {
      await load.close();
    }
  } finally {
    await cluster.stopAll();
  }
}

function pick(m: Map<number, number>, pids: number[]): Map<number, number> {
  return new Map(pids.filter((p) => m.has(p)).map((p) => [p, m.get(p)!]));
}

const loadAtStart = loadAverage();
console.log(
  `bench:cluster — ${o.rooms} rooms × ${o.members} members dealt over the hosts, ${o.publishers} publishers per room × ${o.window} outstanding, ${o.size}-byte texts, ${o.seconds} s; load average ${loadAtStart.toFixed(2)}`,
);
const runs: Run[] = [];
for (const n of hostCounts) {
  process.stdout.write(`  ${n} host${n > 1 ? 's' : ''}… `);
  const run = await runOnce(n);
  runs.push(run);
  console.log(`${Math.round(run.load.count / run.load.seconds).toLocaleString('en-US')} msgs/s`);
}

const COLUMNS = ['hosts', 'delivered msgs/s', 'p50 ms', 'p99 ms', 'CPU s per host', 'Redis CPU s', 'PostgreSQL CPU s', 'per CPU-s (all)', 'errors'];
const rows = runs.map((r) => {
  const cpu = r.hostCpuS.reduce((a, b) => a + b, 0) + r.redisCpuS + r.postgresCpuS;
  const errors = Object.entries(r.load.errors).map(([k, n]) => `${k} ${n}`).join(', ') || '0';
  return [
    r.hosts,
    Math.round(r.load.count / r.load.seconds),
    round(r.load.latency.quantile(0.5)),
    round(r.load.latency.quantile(0.99)),
    r.hostCpuS.map((s) => s.toFixed(2)).join(' / '),
    round(r.redisCpuS),
    round(r.postgresCpuS),
    Math.round(r.load.count / cpu),
    errors,
  ];
});
console.log('');
printTable(COLUMNS, rows);

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

if (values.write) {
  const charts: Chart[] = [
    {
      id: 'cluster-fanout',
      title: 'Room fan-out across hosts: delivered messages per second',
      x: { label: 'hosts' },
      y: { label: 'delivered msgs/s' },
      series: [{ name: 'wizz hosts on Redis + PostgreSQL', points: runs.map((r) => [r.hosts, Math.round(r.load.count / r.load.seconds)]) }],
    },
  ];
  const file = path.join(root, 'docs/data/cluster-bench.json');
  writeJson(file, {
    command: `npm run bench:cluster -- --write${process.argv.slice(2).filter((a) => a !== '--write').map((a) => ` ${a}`).join('')}`,
    machine: `${describeMachine()}; load average ${loadAtStart.toFixed(2)} at start, ${loadAverage().toFixed(2)} at the end (${os.availableParallelism()} cores shared by every host, Redis, PostgreSQL and the load generator)`,
    date: new Date().toISOString(),
    notes: `Room fan-out: ${o.rooms} rooms × ${o.members} members, member i of a room on host i mod N, ${o.publishers} publishers per room × ${o.window} outstanding, ${o.size}-byte texts, ${o.seconds} s window after ${WARMUP_MS / 1000} s of warm-up. One reactor per host. CPU = utime + stime of every process and thread of each host, of redis-server and of PostgreSQL, read from /proc at the two ends of the window.`,
    charts,
    table: { columns: COLUMNS, rows },
  });
  console.log(`\nwrote ${path.relative(root, file)}`);
}
