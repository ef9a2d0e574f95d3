// `npm run bench:server [-- flags] [--write]` — the reference server side by side with a
// straightforward Node server (server/baseline/) and redis-server (PUBLISH/SUBSCRIBE), each started
// here on 127.0.0.1 (free ports, temporary directories), each driven by the same load processes:
//   room fan-out  --rooms 4 --members 50 --publishers 2 (per room) --window 16 (outstanding each)
//                 --size 64 (bytes of text) --duration 8 (s)
//   durable DMs   --dm-senders 64 (measured at 1 and at this many) --dm-duration 4
//   connections   --connections 5000 (idle, then a PING a second each) --conn-duration 5
//   strace runs   --strace-duration 3 (writes per delivery, DMs per fsync; 0 skips them)
//   storm         --storm 5000 logged-in clients drop at once and come back with RESUME (reference only)
//   --systems ref1,refN,baseline,redis   --shapes fanout,dm,connections,storm   --load-procs 2
// Reported per system: delivered msgs/s, the server's CPU seconds in the window (utime + stime of
// every process and thread of its tree, from /proc) and deliveries per CPU-second — the fair figure
// on a shared machine — p50/p99, peak RSS, and ratios to the reference server with one reactor.
// --write records docs/data/server-bench.json (nothing is written without it).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { integerFlag, parseFlags } from '../../server/util/cli.ts';
import { printTable } from './chart-data.ts';
import { loadAverage } from './server/proc.ts';
import { connections, dmTasks, fanoutTasks, measure, reconnectStorm, type FanoutOptions } from './server/shapes.ts';
import { stracePath } from './server/strace.ts';
import { killAll, redisPath, root, startSystem, tempDir, type SystemSpec } from './server/systems.ts';
import { charts, COLUMNS, machine, printTargets, tableRows, targets, writeJson, type SystemResult } from './server/report.ts';

const values = parseFlags(
  {
    rooms: { type: 'string', default: '4' },
    members: { type: 'string', default: '50' },
    publishers: { type: 'string', default: '2' },
    window: { type: 'string', default: '16' },
    size: { type: 'string', default: '64' },
    duration: { type: 'string', default: '8' },
    'dm-senders': { type: 'string', default: '64' },
    'dm-duration': { type: 'string', default: '4' },
    connections: { type: 'string', default: '5000' },
    'conn-duration': { type: 'string', default: '5' },
    'strace-duration': { type: 'string', default: '3' },
    storm: { type: 'string', default: '5000' },
    'load-procs': { type: 'string', default: '2' },
    systems: { type: 'string', default: 'ref1,refN,baseline,redis' },
    shapes: { type: 'string', default: 'fanout,dm,connections,storm' },
    write: { type: 'boolean', default: false },
  },
  'usage: npm run bench:server -- [--systems ref1,refN,baseline,redis] [--shapes fanout,dm,connections] [--rooms 4 --members 50 --publishers 2 --window 16 --size 64 --duration 8] [--dm-senders 64 --dm-duration 4] [--connections 5000 --conn-duration 5] [--strace-duration 3] [--storm 5000] [--load-procs 2] [--write]\n(the comment at the top of scripts/bench/server.ts says what each shape measures)',
);

const num = (name: keyof typeof values, min: number, max: number) => integerFlag(name, values[name], min, max);

const fan: FanoutOptions = {
  rooms: num('rooms', 1, 1_000),
  members: num('members', 2, 10_000),
  publishers: num('publishers', 1, 1_000),
  window: num('window', 1, 10_000),
  size: num('size', 8, 4_000),
  seconds: num('duration', 1, 600),
  loadProcs: num('load-procs', 1, 64),
};
if (fan.publishers >= fan.members) {
  console.error('--publishers must be fewer than --members (publishers are members of their room)');
  process.exit(2);
}
const dmSenders = num('dm-senders', 2, 10_000);
const dmSeconds = num('dm-duration', 1, 600);
const connCount = num('connections', 0, 200_000);
const connSeconds = num('conn-duration', 1, 600);
const straceSeconds = num('strace-duration', 0, 60);
const stormClients = num('storm', 0, 100_000);
const shapes = new Set(values.shapes!.split(','));
const wanted = values.systems!.split(',');
const cores = os.availableParallelism();

const specs: SystemSpec[] = [];
const notes: string[] = [];
for (const w of wanted) {
  if (w === 'ref1') specs.push({ name: 'wizz reference, 1 reactor', kind: 'reference', reactors: 1 });
  else if (w === 'refN') {
    if (cores > 1) specs.push({ name: `wizz reference, ${cores} reactors`, kind: 'reference', reactors: cores });
    else notes.push('one core: the one-reactor-per-core row is the 1-reactor row');
  } else if (w === 'baseline') specs.push({ name: 'straightforward Node server (baseline)', kind: 'baseline' });
  else if (w === 'redis') {
    if (redisPath()) specs.push({ name: 'redis-server PUBLISH/SUBSCRIBE', kind: 'redis' });
    else notes.push('redis-server is not installed: its row is skipped (apt-get install redis-server, or brew install redis)');
  } else {
    console.error(`--systems: unknown system "${w}" (ref1, refN, baseline, redis)`);
    process.exit(2);
  }
}
const strace = straceSeconds > 0 && stracePath() !== null;
if (straceSeconds > 0 && !strace) notes.push('strace is not installed: writes per delivery and DMs per fsync are "—"');

process.on('SIGINT', () => {
  console.error('\nbench:server: interrupted — stopping every server and load process');
  killAll();
  process.exit(130);
});

const loadAtStart = loadAverage();
const command = `npm run bench:server -- ${process.argv.slice(2).join(' ')}`.trim();
console.log(
  `bench:server — ${cores} cores, load average ${loadAtStart} at start (a shared machine: deliveries per CPU-second are the fair figure)\n` +
    `fan-out: ${fan.rooms} rooms × ${fan.members} members, ${fan.publishers} publishers per room × ${fan.window} outstanding, ${fan.size}-byte texts, ${fan.seconds} s; ` +
    `DMs: 1 and ${dmSenders} senders, ${dmSeconds} s; connections: ${connCount.toLocaleString('en-US')} idle then a PING a second each, ${connSeconds} s; ` +
    `storm: ${stormClients.toLocaleString('en-US')} logged-in clients drop and RESUME at once\n`,
);

const results: SystemResult[] = [];
for (const spec of specs) {
  const dir = tempDir();
  const result: SystemResult = { name: spec.name, kind: spec.kind, reactors: spec.reactors, notes: [] };
  results.push(result);
  const say = (what: string) => console.log(`  ${spec.name}: ${what}`);
  let sys;
  try {
    sys = await startSystem(spec, dir);
  } catch (err) {
    result.notes.push(`did not start: ${(err as Error).message.split('\n')[0]}`);
    say(result.notes.at(-1)!);
    continue;
  }
  try {
    // Connections first, on the fresh server: the RSS they add is not blurred by the garbage of
    // the other shapes.
    if (shapes.has('connections') && connCount > 0) {
      say(`${connCount.toLocaleString('en-US')} connections…`);
      const c = await connections(sys, connCount, connSeconds, 10_000);
      result.connections = {
        count: connCount,
        held: c.held,
        rssPerConnKB: c.rssPerConnBytes / 1024,
        pingP99: c.load.latency.quantile(0.99),
        cpuS: c.cpuS,
        loadCpuS: c.loadCpuS,
        seconds: c.load.seconds,
        cpuUsPerPing: c.load.count > 0 ? (c.cpuS / c.load.count) * 1e6 : NaN,
        errors: Object.values(c.load.errors).reduce((a, b) => a + b, 0),
        errorKinds: c.load.errors,
      };
      if (Object.keys(c.load.errors).length) result.notes.push(`connection errors: ${JSON.stringify(c.load.errors)}`);
    }
    if (shapes.has('storm') && stormClients > 0 && spec.kind === 'reference') {
      say(`reconnect storm: ${stormClients.toLocaleString('en-US')} clients log in…`);
      const s = await reconnectStorm(sys, stormClients, (what) => say(what));
      result.storm = s;
      if (s.errors) result.notes.push(`storm errors: ${JSON.stringify(s.errorKinds)}`);
    }
    if (shapes.has('fanout')) {
      say('room fan-out…');
      const w = await measure(sys, fanoutTasks(sys, fan), fan.seconds);
      const delivered = w.load.count;
      let writesPerDelivery: number | null = null;
      if (strace) {
        say('room fan-out under strace (write syscalls)…');
        const s = await measure(sys, fanoutTasks(sys, fan), straceSeconds, { dir, syscalls: ['write', 'writev', 'sendmsg', 'sendto'] });
        const writes = Object.values(s.syscalls ?? {}).reduce((a, b) => a + b, 0);
        writesPerDelivery = s.load.count > 0 ? writes / s.load.count : null;
      }
      result.fanout = {
        deliveredPerS: delivered / w.load.seconds,
        cpuS: w.cpuS,
        perCpuS: w.cpuS > 0 ? delivered / w.cpuS : NaN,
        p50: w.load.latency.quantile(0.5),
        p99: w.load.latency.quantile(0.99),
        peakRssMiB: w.peakRssBytes / 2 ** 20,
        errors: Object.values(w.load.errors).reduce((a, b) => a + b, 0),
        writesPerDelivery,
        userNsPerDelivery: delivered > 0 ? ((w.cpuS - (w.systemS ?? 0)) / delivered) * 1e9 : undefined,
        systemNsPerDelivery: delivered > 0 ? ((w.systemS ?? 0) / delivered) * 1e9 : undefined,
      };
      if (result.fanout.errors) result.notes.push(`fan-out errors: ${JSON.stringify(w.load.errors)}`);
    }
    if (shapes.has('dm')) {
      if (spec.kind === 'redis') result.notes.push('durable DMs: not measured on redis-server (pub/sub stores nothing)');
      else {
        result.dm = { levels: [], dmsPerFsync: null };
        for (const senders of [1, dmSenders]) {
          say(`durable DMs, ${senders} sender${senders > 1 ? 's' : ''}…`);
          const w = await measure(sys, dmTasks(sys, senders, fan.size, fan.loadProcs), dmSeconds);
          result.dm.levels.push({
            senders,
            ackedPerS: w.load.count / w.load.seconds,
            p50: w.load.latency.quantile(0.5),
            p99: w.load.latency.quantile(0.99),
            cpuS: w.cpuS,
            errors: Object.values(w.load.errors).reduce((a, b) => a + b, 0),
          });
          if (Object.keys(w.load.errors).length) result.notes.push(`DM errors (${senders} senders): ${JSON.stringify(w.load.errors)}`);
        }
        if (strace) {
          say(`durable DMs under strace (fsyncs), ${dmSenders} senders…`);
          const s = await measure(sys, dmTasks(sys, dmSenders, fan.size, fan.loadProcs), straceSeconds, { dir, syscalls: ['fsync', 'fdatasync'] });
          const fsyncs = Object.values(s.syscalls ?? {}).reduce((a, b) => a + b, 0);
          result.dm.dmsPerFsync = fsyncs > 0 ? s.load.count / fsyncs : null;
        }
      }
    }
  } catch (err) {
    result.notes.push(`failed: ${(err as Error).message.split('\n')[0]}`);
    say(result.notes.at(-1)!);
  } finally {
    const early = sys.exitedEarly();
    if (early) result.notes.push(`the server ${early}; its last output: ${sys.output().trim().split('\n').slice(-3).join(' / ')}`);
    await sys.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const rows = tableRows(results);
console.log('');
printTable(COLUMNS, rows);
for (const r of results) {
  const f = r.fanout;
  if (f?.userNsPerDelivery !== undefined && f.systemNsPerDelivery !== undefined) {
    console.log(`  ${r.name}: ${Math.round(f.userNsPerDelivery + f.systemNsPerDelivery)} ns of server CPU per delivery = ${Math.round(f.userNsPerDelivery)} own code (user) + ${Math.round(f.systemNsPerDelivery)} kernel (system)`);
  }
}
const list = targets(results, connCount);
printTargets(list);
const allNotes = [...notes, ...results.flatMap((r) => r.notes.map((n) => `${r.name}: ${n}`))];
if (allNotes.length) console.log(`\nNotes:\n${allNotes.map((n) => `  - ${n}`).join('\n')}`);
const loadAtEnd = loadAverage();
console.log(`\nload average ${loadAtStart} at start, ${loadAtEnd} at the end, on ${cores} cores`);

if (values.write) {
  const file = path.join(root, 'docs/data/server-bench.json');
  const m = machine(loadAtStart);
  writeJson(file, {
    command,
    machine: `${m.cpu}, ${m.nproc} cores, ${m.memoryGiB} GiB, ${m.kernel}, Node ${m.node}; load average ${loadAtStart} at start, ${loadAtEnd} at the end (a shared machine)`,
    date: new Date().toISOString(),
    notes:
      `Room fan-out: ${fan.rooms} rooms × ${fan.members} members, ${fan.publishers} publishers per room × ${fan.window} outstanding, ${fan.size}-byte texts, ${fan.seconds} s. ` +
      'CPU = utime + stime of every process and thread of the server, read from /proc at the start and end of the window; the load generator runs in other processes. ' +
      'Writes per delivery and DMs per fsync come from a separate shorter run under strace. ' +
      'Redis subscribers are raw RESP sockets, publishers ioredis; the baseline accepts any password. ' +
      allNotes.join(' '),
    charts: charts(results),
    table: { columns: COLUMNS, rows },
    details: { ...m, settings: { ...fan, dmSenders, dmSeconds, connections: connCount, connSeconds, straceSeconds, stormClients, loadAverageAtEnd: loadAtEnd } },
    results,
    targets: list,
  });
  console.log(`\nwrote ${path.relative(root, file)}`);
} else console.log('\n(docs/data not touched: add --write to record docs/data/server-bench.json)');
process.exit(0);
