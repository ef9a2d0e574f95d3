// `npx tsx labs/08-profile/profile.ts [allocating|preallocated] [messages]` — runs a workload under
// your harness and prints the report and the verdict. Add `--cpu-prof` to node's options
// (NODE_OPTIONS=--cpu-prof) to also get a .cpuprofile whose "(garbage collector)" samples you can
// compare with the harness's number in Chrome DevTools.
import { measureGc } from './measure.ts';
import { verdict } from './decide.ts';
import { allocating, preallocated } from './workloads.ts';

const name = process.argv[2] ?? 'allocating';
const messages = Number(process.argv[3] ?? 40_000);
const workload = name === 'preallocated' ? preallocated() : allocating();

const report = await measureGc(() => workload.run(messages));
console.log(`${workload.name}, ${messages.toLocaleString('en-US')} messages`);
console.log(`  wall ${report.wallMs.toFixed(1)} ms, GC ${report.gcMs.toFixed(1)} ms in ${report.gcCount} collections`);
console.log(`  GC share ${(report.gcShare * 100).toFixed(1)} % → ${verdict(report)}`);
