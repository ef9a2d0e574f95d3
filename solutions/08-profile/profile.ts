// `npm run profile:lab -- [allocating|preallocated|storm|storm-pooled] [messages]` — runs a workload
// under your harness, prints the report and the verdict, and writes ONE CPU profile of the run to
// .wizz/profiles/ (the npm script passes --profile-dir), whose "(garbage collector)" samples you
// can compare with the harness's number in Chrome DevTools (Performance → Load profile).
// The profile is taken with node:inspector around the workload, not with `node --cpu-prof`: that
// flag profiles every thread, tsx's module loader included, and leaves two files to choose from.
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { measureGc } from './measure.ts';
import { verdict } from './decide.ts';
import { allocating, chunkPool, preallocated, storm, type Workload } from './workloads.ts';

const NAMES = ['allocating', 'preallocated', 'storm', 'storm-pooled'];
const USAGE = `usage: npm run profile:lab -- [${NAMES.join('|')}] [messages]
  runs the workload under your measureGc(), prints the GC share and the verdict, and writes a CPU profile`;

function usage(problem: string): never {
  console.error(`${problem}\n\n${USAGE}`);
  process.exit(2);
}

let args: ReturnType<typeof parseArgs<{ options: { 'profile-dir': { type: 'string' }; help: { type: 'boolean'; short: 'h' } }; allowPositionals: true }>>;
try {
  args = parseArgs({ options: { 'profile-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true });
} catch (err) {
  usage((err as Error).message.replace(/\. To specify a positional argument[^]*$/, '.'));
}
if (args.values.help) {
  console.log(USAGE);
  process.exit(0);
}
const name = args.positionals[0] ?? 'allocating';
if (!NAMES.includes(name)) usage(`unknown workload '${name}': one of ${NAMES.join(', ')}`);
const messages = Number(args.positionals[1] ?? (name.startsWith('storm') ? 400_000 : 40_000));
if (!Number.isInteger(messages) || messages < 1) usage(`messages must be a positive integer, got "${args.positionals[1]}"`);
const IN_FLIGHT = 256;

function pick(): Workload {
  if (name === 'preallocated') return preallocated();
  if (name === 'storm') return { name: 'storm (read path, no pool)', run: (n) => storm({ messages: n, inFlight: IN_FLIGHT }) };
  if (name === 'storm-pooled') {
    const pool = chunkPool(IN_FLIGHT); // the same O(1) free list as stage 05's BufferPool
    return { name: 'storm (read path, buffers from a pool)', run: (n) => storm({ messages: n, inFlight: IN_FLIGHT, pool }) };
  }
  return allocating();
}

const workload = pick();
const dir = args.values['profile-dir'];
const session = dir ? new Session() : null;
if (session) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
}
const report = await measureGc(() => workload.run(messages)).catch((err: Error) => {
  // Plainly, without a stack: usually the harness is not written yet.
  console.error(`measureGc failed: ${err.message} — is measure.ts finished?`);
  process.exit(1);
});
console.log(`${workload.name}, ${messages.toLocaleString('en-US')} messages`);
console.log(`  wall ${report.wallMs.toFixed(1)} ms, GC ${report.gcMs.toFixed(1)} ms in ${report.gcCount} collections`);
console.log(`  GC share ${(report.gcShare * 100).toFixed(1)} % → ${verdict(report)}`);
if (session && dir) {
  const { profile } = await session.post('Profiler.stop');
  session.disconnect();
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
  fs.writeFileSync(file, JSON.stringify(profile));
  console.log(`  CPU profile: ${file} — open it in Chrome DevTools (Performance → Load profile)`);
}
