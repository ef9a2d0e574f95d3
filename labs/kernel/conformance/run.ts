// `npm run conformance`: plays every scenario on the emulator and on real Linux (python3) and prints
// one row per scenario. kqueue scenarios are checked against the results FreeBSD's kqueue(2)
// describes (written in the scenario), as there is no kqueue on Linux. Exit code 1 on any mismatch.
import { printTable } from '../../../scripts/bench/chart-data.ts';
import { runOnEmulator } from './emulator-runner.ts';
import { firstDifference, loadScenarios, runOnLinux } from './scenario.ts';

const scenarios = loadScenarios();
const emu = await runOnEmulator(scenarios);
const linux = runOnLinux(scenarios);
if (!linux.ok) console.warn(`\n!!! REAL-KERNEL SIDE SKIPPED: ${linux.why}\n!!! Only the emulator (and kqueue expectations) were checked.\n`);

let failures = 0;
const rows = scenarios.map((sc) => {
  const mine = emu[sc.name];
  let reference: string;
  let verdict: string;
  if (sc.linux === false) {
    reference = 'kqueue(2)';
    const d = firstDifference(mine, sc.expect);
    verdict = d < 0 ? 'match' : `DIFFERS at step ${d + 1}`;
  } else if (!linux.ok) {
    reference = 'skipped';
    verdict = '—';
  } else {
    reference = 'linux';
    const d = firstDifference(mine, linux.results[sc.name]);
    verdict = d < 0 ? 'match' : `DIFFERS at step ${d + 1}`;
  }
  if (verdict.startsWith('DIFFERS')) failures++;
  return [sc.name, `${mine?.length ?? 0} steps`, reference, verdict];
});
printTable(['scenario', 'emulator', 'checked against', 'result'], rows);

for (const sc of scenarios) {
  const ref = sc.linux === false ? sc.expect : linux.ok ? linux.results[sc.name] : undefined;
  const d = ref ? firstDifference(emu[sc.name], ref) : -1;
  if (d >= 0) {
    console.log(`\n✗ ${sc.name} — ${sc.about}\n  step ${d + 1}: ${JSON.stringify(sc.steps[d])}`);
    console.log(`  emulator: ${JSON.stringify(emu[sc.name]?.[d])}\n  expected: ${JSON.stringify(ref?.[d])}`);
  }
}
const linuxCount = scenarios.filter((s) => s.linux !== false).length;
console.log(
  `\n${scenarios.length} scenarios: ${linuxCount} against ${linux.ok ? 'real Linux' : 'NOTHING (skipped)'}, ` +
    `${scenarios.length - linuxCount} against kqueue(2); ${failures} differ.`,
);
process.exitCode = failures > 0 ? 1 : 0;
