// `npm run check [-- --only step1,step2] [--jobs N]`: everything CI and maintainers run. Steps run
// two at a time (WIZZ_CHECK_JOBS or --jobs), each one's output held back and printed as one block
// with its time when it finishes. Keeps going after a failure (skipping steps that depend on it)
// and ends with one line of its own, `N passed, N failed`; exit 1 if anything failed.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { integerFlag, parseFlags } from '../server/util/cli.ts';
import { runIsolated } from './lib/run-isolated.ts';
import { abortedRecords } from './lib/results.ts';
import { readSummary } from './lib/summary.ts';
import { STEPS, nextStep, selectSteps, type Step } from './lib/steps.ts';
import { missingLine, missingPackages } from './lib/system-packages.ts';
import { stageDirs } from './lib/stages.ts';
import { LABS, ROOT, SOLUTIONS } from './lib/paths.ts';
import { warmImportsCache } from '../labs/kit/imports.ts';
import { c, pad } from './lib/color.ts';

const USAGE = `usage: npm run check [-- --only STEP,STEP] [--jobs N]
  every step CI runs, two at a time; ends with one line "N passed, N failed" (exit 1 on a failure)
  --only     steps: ${STEPS.map((s) => s.id).join(' ')}
  --jobs N   steps at a time (default 2, or $WIZZ_CHECK_JOBS)`;
const values = parseFlags({ only: { type: 'string' }, jobs: { type: 'string' } }, USAGE);
const selection = selectSteps(values.only);
if ('error' in selection) {
  console.error(selection.error);
  process.exit(2);
}
const steps: Step[] = selection;
const missing = missingPackages(steps.map((s) => s.id));
if (missing.length) {
  console.error(c.red(missingLine(missing)));
  process.exit(2);
}
const JOBS = values.jobs !== undefined ? integerFlag('jobs', values.jobs, 1, 16) : Math.max(1, Number(process.env.WIZZ_CHECK_JOBS) || 2);

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
type Log = (line: string) => void;

/** Runs a command with its output captured (steps run side by side; each prints as one block). */
function runCommand(cmd: string[], log: Log, extraArgs: string[] = []): Promise<number> {
  return new Promise((resolve) => {
    const env = { ...process.env, ...(process.stdout.isTTY && !process.env.NO_COLOR ? { FORCE_COLOR: '1' } : {}) };
    const child = spawn(cmd[0]!, [...cmd.slice(1), ...extraArgs], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
    let text = '';
    child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', (e) => {
      log(c.red(`  could not start ${cmd[0]}: ${e.message}`));
      resolve(127);
    });
    child.on('close', (code, sig) => {
      // Progress redraws (\r) collapse to their last state.
      if (text.trim()) for (const line of text.replace(/\n$/, '').split('\n')) log(line.split('\r').pop()!);
      resolve(code ?? (sig ? 128 : 1));
    });
  });
}

function hasTests(dir: string): boolean {
  const abs = path.join(ROOT, dir);
  if (!fs.existsSync(abs)) return false;
  return (fs.readdirSync(abs, { recursive: true }) as string[]).some((f) => f.endsWith('.test.ts') && !f.includes('node_modules'));
}

async function runStep(step: Step, log: Log): Promise<Omit<Outcome, 'id' | 'ms'>> {
  const k = step.kind;
  if (k.type === 'command') {
    const code = await runCommand(k.cmd, log);
    return code === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1, note: `exit code ${code}` };
  }
  if (k.type === 'summary') {
    const file = path.join(os.tmpdir(), `wizz-${step.id}-${process.pid}.json`);
    fs.rmSync(file, { force: true });
    // Honesty needs solutions/ graded too: hand it the graders step's run instead of repeating it.
    const reuse = step.id === 'honesty' && fs.existsSync(SOLUTIONS_RUN) ? ['--solutions-run', SOLUTIONS_RUN] : [];
    const code = await runCommand(k.cmd, log, ['--summary', file, ...reuse]);
    const s = readSummary(file);
    fs.rmSync(file, { force: true });
    if (!s) return { passed: 0, failed: 1, note: `crashed (exit code ${code}) before reporting its counts` };
    // A non-zero exit with no failure counted is still a failure.
    return code !== 0 && s.failed === 0 ? { ...s, failed: 1, note: `exit code ${code}` } : s;
  }
  const empty = !k.dirs.some(hasTests);
  if (empty && k.allowEmpty) log(c.yellow(`  no test files in ${k.dirs.join(', ')} yet — running with --passWithNoTests`));
  const run = await runIsolated({ target: k.target, project: k.project, passWithNoTests: empty && k.allowEmpty, timeoutMs: 15 * 60_000, maxWorkers: k.maxWorkers });
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
      log(`  ${c.red('✗')} ${t.file} > ${t.name}`);
      if (e) log(`      ${e.message.split('\n').slice(0, 4).join('\n      ')}${at ? c.dim(`\n      at ${path.relative(ROOT, at.file)}:${at.line}`) : ''}`);
    }
  }
  for (const e of run.unhandled) {
    failed++;
    log(`  ${c.red('!')} ${e.message.split('\n').slice(0, 4).join('\n    ')}`);
  }
  const skipped = tests.filter((t) => t.state === 'skipped').length;
  log(`  ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  return { passed, failed, note: empty && k.allowEmpty ? 'no test files yet' : undefined };
}

const outcomes: Outcome[] = [];
const t0 = Date.now();
const started = new Set<string>();
const done = new Set<string>();
let printed = 0;
console.log(c.dim(`check: ${steps.length} steps, ${JOBS} at a time (--jobs N to change)`));
// Every stage's imports grader parses its files: do it once here, with one load of the compiler,
// rather than once per grader process (the results are cached by content in .wizz/).
if (steps.some((s) => s.id === 'graders' || s.id === 'honesty')) {
  await warmImportsCache([...stageDirs(LABS).map((id) => path.join(LABS, id)), ...stageDirs(SOLUTIONS).map((id) => path.join(SOLUTIONS, id))]);
}

async function execute(step: Step): Promise<void> {
  const lines: string[] = [];
  const log: Log = (l) => lines.push(l);
  const blocker = step.needs?.map((n) => outcomes.find((o) => o.id === n)).find((o) => o && (o.failed > 0 || o.skipped));
  const start = Date.now();
  let r: Omit<Outcome, 'id' | 'ms'> & { skipped?: string };
  if (blocker) {
    log(c.yellow(`  skipped: needs ${blocker.id}, which failed`));
    r = { passed: 0, failed: 0, skipped: `needs ${blocker.id}` };
  } else {
    console.log(c.dim(`  ▸ ${step.id} started (${((start - t0) / 1000).toFixed(0)} s)`));
    try {
      r = await runStep(step, log);
    } catch (e) {
      log(c.red(`  the step crashed: ${(e as Error).message}`));
      r = { passed: 0, failed: 1, note: 'crashed' };
    }
  }
  const ms = blocker ? 0 : Date.now() - start;
  outcomes.push({ id: step.id, ...r, ms });
  done.add(step.id);
  console.log('\n' + c.bold(`━━ [${++printed}/${steps.length}] ${step.title}`));
  for (const l of lines) console.log(l);
  if (!blocker) {
    const mark = r.failed ? c.red('✗') : c.green('✓');
    console.log(`${mark} ${step.id}: ${r.passed} passed, ${r.failed} failed ${c.dim(`(${(ms / 1000).toFixed(1)} s)`)}${r.note ? c.dim(` — ${r.note}`) : ''}`);
  }
}

// A small scheduler: keep JOBS steps running, starting each as soon as what it waits for is done.
await new Promise<void>((resolve) => {
  let running = 0;
  const pump = () => {
    for (;;) {
      if (running >= JOBS) return;
      const step = nextStep(steps, started, done);
      if (!step) {
        if (running === 0) resolve();
        return;
      }
      started.add(step.id);
      running++;
      void execute(step).finally(() => {
        running--;
        pump();
      });
    }
  };
  pump();
});

console.log('\n' + c.bold(`━━ summary (${((Date.now() - t0) / 1000).toFixed(0)} s wall, ${JOBS} steps at a time)`));
for (const step of steps) {
  const o = outcomes.find((x) => x.id === step.id)!;
  const status = o.skipped ? c.yellow(`skipped (${o.skipped})`) : o.failed ? c.red(`${o.failed} failed`) : c.green('ok');
  console.log(`  ${pad(o.id, 11)} ${pad(`${o.passed} passed`, 12)} ${pad(status, 22)} ${c.dim(`${(o.ms / 1000).toFixed(1)} s`)}${o.note ? c.dim(`  ${o.note}`) : ''}`);
}
const passed = outcomes.reduce((n, o) => n + o.passed, 0);
const failed = outcomes.reduce((n, o) => n + o.failed, 0);
// The last line, exactly this shape: CI and maintainers read it.
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
