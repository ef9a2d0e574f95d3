// `npm run profile:lab -- [allocating|preallocated|storm|storm-pooled] [messages]` — runs a workload
// under your harness, prints the report and the verdict, and (the npm script starts node with
// --cpu-prof) writes a .cpuprofile to .wizz/profiles/ whose "(garbage collector)" samples you can
// compare with the harness's number in Chrome DevTools (Performance → Load profile).
// On Node 20 --cpu-prof must be a node flag: NODE_OPTIONS=--cpu-prof is refused.
import { measureGc } from './measure.ts';
import { verdict } from './decide.ts';
import { allocating, chunkPool, preallocated, storm, type Workload } from './workloads.ts';

const NAMES = ['allocating', 'preallocated', 'storm', 'storm-pooled'];
const name = process.argv[2] ?? 'allocating';
if (!NAMES.includes(name)) {
  console.error(`unknown workload '${name}': one of ${NAMES.join(', ')}`);
  process.exit(2);
}
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
const messages = Number(process.argv[3] ?? (name.startsWith('storm') ? 400_000 : 40_000));
const report = await measureGc(() => workload.run(messages)).catch((err: Error) => {
  // Plainly, without a stack: usually the harness is not written yet.
  console.error(`measureGc failed: ${err.message} — is measure.ts finished?`);
  process.exit(1);
});
console.log(`${workload.name}, ${messages.toLocaleString('en-US')} messages`);
console.log(`  wall ${report.wallMs.toFixed(1)} ms, GC ${report.gcMs.toFixed(1)} ms in ${report.gcCount} collections`);
console.log(`  GC share ${(report.gcShare * 100).toFixed(1)} % → ${verdict(report)}`);
if (process.execArgv.some((a) => a.startsWith('--cpu-prof'))) {
  const dir = process.execArgv.find((a) => a.startsWith('--cpu-prof-dir='))?.slice('--cpu-prof-dir='.length) ?? '.';
  console.log(`  CPU profile: written to ${dir}/ when this process exits — open it in Chrome DevTools (Performance → Load profile)`);
}
