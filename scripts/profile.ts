// `npm run profile [-- --reactors N --duration 8 --rooms 4 --members 50 --publishers 2
// --window 16 --size 64] [--write]` — "profile before you pool", applied to our own server: runs the
// reference server under `node --cpu-prof` (the cluster's reactors inherit the flag, and worker
// threads are profiled too), drives the bench's room fan-out at it from separate load processes,
// stops it gracefully so every process writes its profile, then prints the top functions by self
// time and the share of working time in "(garbage collector)", for the reactors, the primary and
// the database thread. Profiles are kept under reports/profile-server/ (gitignored); --write also
// records the summary in docs/data/server-profile.json for the performance page.
// (`npm run profile:lab` is stage 08's workload profiler, a different thing.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { integerFlag, parseFlags } from '../server/util/cli.ts';
import { ranCodeFrom, summarize, type CpuProfile, type ProfileSummary } from './bench/server/cpuprofile.ts';
import { loadAverage } from './bench/server/proc.ts';
import { fanoutTasks, measure } from './bench/server/shapes.ts';
import { killAll, root, startSystem, tempDir } from './bench/server/systems.ts';
import { machine, writeJson } from './bench/server/report.ts';

const USAGE = `usage: npm run profile [-- --reactors N --duration S --rooms N --members N --publishers N --window N --size B --top N] [--write]
  the reference server under load with --cpu-prof: top functions by self time and the GC share
  --reactors N    reactor processes (default: one per core)     --duration S   seconds of load (8)
  --rooms N, --members N, --publishers N, --window N, --size B  the room fan-out (4, 50, 2, 16, 64)
  --top N         functions listed (15)
  --write         record the summary in docs/data/server-profile.json`;
const values = parseFlags(
  {
    reactors: { type: 'string', default: String(os.availableParallelism()) },
    duration: { type: 'string', default: '8' },
    rooms: { type: 'string', default: '4' },
    members: { type: 'string', default: '50' },
    publishers: { type: 'string', default: '2' },
    window: { type: 'string', default: '16' },
    size: { type: 'string', default: '64' },
    top: { type: 'string', default: '15' },
    write: { type: 'boolean', default: false },
  },
  USAGE,
);
type IntFlag = 'reactors' | 'duration' | 'rooms' | 'members' | 'publishers' | 'window' | 'size' | 'top';
const int = (name: IntFlag, min: number, max: number) => integerFlag(name, values[name], min, max);
const reactors = int('reactors', 1, 256);
const fan = {
  rooms: int('rooms', 1, 1_000),
  members: int('members', 2, 10_000),
  publishers: int('publishers', 1, 1_000),
  window: int('window', 1, 10_000),
  size: int('size', 8, 4_000),
  seconds: int('duration', 1, 600),
  loadProcs: 2,
};
const topN = int('top', 1, 100);

process.on('SIGINT', () => {
  killAll();
  process.exit(130);
});

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const dir = path.join(root, 'reports', 'profile-server', stamp);
fs.mkdirSync(dir, { recursive: true });
const loadAtStart = loadAverage();
console.log(`profile — ${reactors} reactor(s) under --cpu-prof, room fan-out ${fan.rooms} × ${fan.members}, ${fan.seconds} s; load average ${loadAtStart}`);
const dataDir = tempDir();
const sys = await startSystem({ name: `wizz reference, ${reactors} reactors`, kind: 'reference', reactors, nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir] }, dataDir);
let delivered = 0;
let cpuS = 0;
let systemS = 0;
let windowUs: [number, number] | undefined;
try {
  const w = await measure(sys, fanoutTasks(sys, fan), fan.seconds);
  delivered = w.load.count;
  cpuS = w.cpuS;
  systemS = w.systemS ?? 0;
  windowUs = w.windowUs;
} finally {
  await sys.stop(); // SIGINT: every process exits normally and writes its .cpuprofile
  fs.rmSync(dataDir, { recursive: true, force: true });
}
const ns = (s: number) => Math.round((s / delivered) * 1e9);
console.log(
  `${delivered.toLocaleString('en-US')} deliveries in ${fan.seconds} s, ${cpuS.toFixed(2)} server CPU s (${Math.round(delivered / cpuS).toLocaleString('en-US')} per CPU-second; slowed by the profiler)\n` +
    `per delivery: ${ns(cpuS)} ns of server CPU, ${ns(cpuS - systemS)} ns in the server's own code (user) and ${ns(systemS)} ns in the kernel (system)\n` +
    '(shares below are of sampled time: a sample also lands on whatever the thread was doing when it was descheduled, mostly a system call — so read the user/kernel split above for CPU)\n',
);

// CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: the primary is sys.pid, every other pid a
// reactor; thread 0 is a process's event loop. Of the other threads, the one that ran server/db/
// is the database actor; the rest are tsx's module-loader threads (start-up only), left out.
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
const groups: Record<'reactors' | 'primary' | 'database thread', CpuProfile[]> = { reactors: [], primary: [], 'database thread': [] };
let loaderThreads = 0;
for (const f of files) {
  const [, , , pid, thread] = f.split('.');
  const profile = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as CpuProfile;
  if (thread !== '0') {
    if (Number(pid) === sys.pid && ranCodeFrom(profile, '/server/db/')) groups['database thread'].push(profile);
    else loaderThreads++;
  } else if (Number(pid) === sys.pid) groups.primary.push(profile);
  else groups.reactors.push(profile);
}
if (files.length === 0) {
  console.error(`no .cpuprofile was written in ${path.relative(root, dir)} (did the server exit normally?)`);
  process.exit(1);
}

const summaries: Record<string, ProfileSummary> = {};
for (const [name, profiles] of Object.entries(groups)) {
  if (profiles.length === 0) continue;
  // Only the measured window: start-up (tsx compiling the server) and shutdown are not the server's work.
  let s = summarize(profiles, root, topN, windowUs);
  if (s.totalMs === 0) s = summarize(profiles, root, topN); // clocks disagree: the whole run, said below
  if (s.totalMs === 0 || !windowUs) console.log('(the whole run, start-up included: no samples matched the measured window)');
  summaries[name] = s;
  console.log(`${name} (${profiles.length} profile${profiles.length > 1 ? 's' : ''}): ${(s.busyMs / 1000).toFixed(2)} s busy, ${(s.gcShare * 100).toFixed(1)} % of it in the garbage collector`);
  const w = Math.max(...s.top.map((t) => t.name.length));
  for (const t of s.top) console.log(`  ${(t.share * 100).toFixed(1).padStart(5)} %  ${t.selfMs.toFixed(0).padStart(7)} ms  ${t.name.padEnd(w)}`);
  console.log('');
}
if (loaderThreads) console.log(`(${loaderThreads} module-loader thread profile${loaderThreads > 1 ? 's' : ''} left out: start-up work of tsx, not the server)`);
console.log(`profiles: ${path.relative(root, dir)}/ (open them in Chrome DevTools → Performance, or speedscope)`);

if (values.write) {
  const m = machine(loadAtStart);
  const file = path.join(root, 'docs/data/server-profile.json');
  const command = `npm run profile -- ${process.argv.slice(2).join(' ')}`.trim();
  writeJson(file, {
    command,
    machine: `${m.cpu}, ${m.nproc} cores, ${m.memoryGiB} GiB, ${m.kernel}, Node ${m.node}; load average ${loadAtStart} at start (a shared machine)`,
    date: new Date().toISOString(),
    notes: `${reactors} reactor(s), room fan-out ${fan.rooms} rooms × ${fan.members} members, ${fan.publishers} publishers × ${fan.window} outstanding, ${fan.size}-byte texts, ${fan.seconds} s under --cpu-prof.`,
    charts: [],
    details: { ...m, settings: { reactors, ...fan, delivered, cpuS, systemS, userNsPerDelivery: ns(cpuS - systemS), systemNsPerDelivery: ns(systemS) } },
    results: [],
    targets: [],
    profiles: summaries,
  });
  console.log(`wrote ${path.relative(root, file)}`);
}
process.exit(0);
