// `npm run check [-- --only step1,step2]`: everything CI and maintainers run, in order, each step
// with a header and its time. Keeps going after a failure (skipping steps that depend on it) and
// ends with one line of its own, `N passed, N failed`; exit 1 if anything failed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT } from './lib/paths.ts';
import { runIsolated } from './lib/run-isolated.ts';
import { abortedRecords } from './lib/results.ts';
import { readSummary } from './lib/summary.ts';
import { STEPS, selectSteps, type Step } from './lib/steps.ts';
import { c, pad } from './lib/color.ts';

const { values } = parseArgs({ options: { only: { type: 'string' } } });
const steps = selectSteps(values.only);
if ('error' in steps) {
  console.error(steps.error);
  process.exit(2);
}

const SOLUTIONS_RUN = path.join(os.tmpdir(), `wizz-solutions-run-${process.pid}.json`);
process.on('exit', () => fs.rmSync(SOLUTIONS_RUN, { force: true }));

interface Outcome {
  id: string;
  passed: number;
  failed: number;
  skipped?: string;
  ms: number;
  note?: string;
}

function runCommand(cmd: string[], extraArgs: string[] = []): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd[0]!, [...cmd.slice(1), ...extraArgs], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], env: process.env });
    child.on('error', (e) => {
      console.log(c.red(`  could not start ${cmd[0]}: ${e.message}`));
      resolve(127);
    });
    child.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : 1)));
  });
}

function hasTests(dir: string): boolean {
  const abs = path.join(ROOT, dir);
  if (!fs.existsSync(abs)) return false;
  return (fs.readdirSync(abs, { recursive: true }) as string[]).some((f) => f.endsWith('.test.ts') && !f.includes('node_modules') && !f.split(path.sep).includes('wrong'));
}

async function runStep(step: Step): Promise<Omit<Outcome, 'id' | 'ms'>> {
  const k = step.kind;
  if (k.type === 'command') {
    const code = await runCommand(k.cmd);
    return code === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1, note: `exit code ${code}` };
  }
  if (k.type === 'summary') {
    const file = path.join(os.tmpdir(), `wizz-${step.id}-${process.pid}.json`);
    fs.rmSync(file, { force: true });
    // Honesty needs solutions/ graded too: hand it the graders step's run instead of repeating it.
    const reuse = step.id === 'honesty' && fs.existsSync(SOLUTIONS_RUN) ? ['--solutions-run', SOLUTIONS_RUN] : [];
    const code = await runCommand(k.cmd, ['--summary', file, ...reuse]);
    const s = readSummary(file);
    fs.rmSync(file, { force: true });
    if (!s) return { passed: 0, failed: 1, note: `crashed (exit code ${code}) before reporting its counts` };
    // A non-zero exit with no failure counted is still a failure.
    return code !== 0 && s.failed === 0 ? { ...s, failed: 1, note: `exit code ${code}` } : s;
  }
  const empty = !k.dirs.some(hasTests);
  if (empty && k.allowEmpty) console.log(c.yellow(`  no test files in ${k.dirs.join(', ')} yet — running with --passWithNoTests`));
  const run = await runIsolated({ target: k.target, project: k.project, passWithNoTests: empty && k.allowEmpty, timeoutMs: 15 * 60_000 });
  if (step.id === 'graders' && !run.aborted) fs.writeFileSync(SOLUTIONS_RUN, JSON.stringify(run));
  const tests = [...run.tests, ...abortedRecords(run)];
  let passed = 0;
  let failed = 0;
  for (const t of tests) {
    if (t.state === 'passed') passed++;
    else if (t.state === 'failed') {
      failed++;
      const e = t.errors[0];
      const at = e?.frames.find((f) => f.file.startsWith(ROOT) && !f.file.includes('node_modules'));
      console.log(`  ${c.red('✗')} ${t.file} > ${t.name}`);
      if (e) console.log(`      ${e.message.split('\n').slice(0, 4).join('\n      ')}${at ? c.dim(`\n      at ${path.relative(ROOT, at.file)}:${at.line}`) : ''}`);
    }
  }
  for (const e of run.unhandled) {
    failed++;
    console.log(`  ${c.red('!')} ${e.message.split('\n').slice(0, 4).join('\n    ')}`);
  }
  console.log(`  ${passed} passed, ${failed} failed${tests.some((t) => t.state === 'skipped') ? `, ${tests.filter((t) => t.state === 'skipped').length} skipped` : ''}`);
  return { passed, failed, note: empty && k.allowEmpty ? 'no test files yet' : undefined };
}

const outcomes: Outcome[] = [];
const t0 = Date.now();
for (const [i, step] of steps.entries()) {
  console.log('\n' + c.bold(`━━ [${i + 1}/${steps.length}] ${step.title}`));
  const blocker = step.needs?.map((n) => outcomes.find((o) => o.id === n)).find((o) => o && (o.failed > 0 || o.skipped));
  if (blocker) {
    console.log(c.yellow(`  skipped: needs ${blocker.id}, which failed`));
    outcomes.push({ id: step.id, passed: 0, failed: 0, skipped: `needs ${blocker.id}`, ms: 0 });
    continue;
  }
  const start = Date.now();
  let r: Omit<Outcome, 'id' | 'ms'>;
  try {
    r = await runStep(step);
  } catch (e) {
    console.log(c.red(`  the step crashed: ${(e as Error).message}`));
    r = { passed: 0, failed: 1, note: 'crashed' };
  }
  const ms = Date.now() - start;
  outcomes.push({ id: step.id, ...r, ms });
  const mark = r.failed ? c.red('✗') : c.green('✓');
  console.log(`${mark} ${step.id}: ${r.passed} passed, ${r.failed} failed ${c.dim(`(${(ms / 1000).toFixed(1)} s)`)}${r.note ? c.dim(` — ${r.note}`) : ''}`);
}

console.log('\n' + c.bold(`━━ summary (${((Date.now() - t0) / 1000).toFixed(0)} s)`));
for (const o of outcomes) {
  const status = o.skipped ? c.yellow(`skipped (${o.skipped})`) : o.failed ? c.red(`${o.failed} failed`) : c.green('ok');
  console.log(`  ${pad(o.id, 11)} ${pad(`${o.passed} passed`, 12)} ${pad(status, 22)} ${c.dim(`${(o.ms / 1000).toFixed(1)} s`)}${o.note ? c.dim(`  ${o.note}`) : ''}`);
}
const passed = outcomes.reduce((n, o) => n + o.passed, 0);
const failed = outcomes.reduce((n, o) => n + o.failed, 0);
// The last line, exactly this shape: CI and maintainers read it.
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
