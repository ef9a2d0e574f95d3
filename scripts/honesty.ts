// `npm run honesty [-- NN ...] [--summary FILE]`: are the graders honest?
//   1. every stage is complete: folders, README, graders, three hints, ≥ 3 known-wrong variants
//   2. labs/ as shipped FAILS its graders (a starter that passes means a grader checks nothing)
//   3. solutions/ PASSES them
//   4. every labs/NN/wrong/*.ts variant, swapped into a copy of solutions/, FAILS at least one grader
// Prints a table per part and ends with "honesty: N passed, N failed"; exit 1 on any failure.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadManifest, resolveStage, stageDirs } from './lib/stages.ts';
import { LABS, ROOT, SOLUTIONS } from './lib/paths.ts';
import { runIsolated } from './lib/run-isolated.ts';
import { abortedRecords, groupByStage, type RunResult, type StageResult, type TestRecord } from './lib/results.ts';
import { buildOverlay, listVariants, removeOverlay, type Variant } from './lib/overlay.ts';
import { variantVerdict, verdictPasses, type Verdict } from './lib/verdict.ts';
import { pool, writeSummary } from './lib/summary.ts';
import { c, pad } from './lib/color.ts';

const MIN_VARIANTS = 3;
const CONCURRENCY = Number(process.env.WIZZ_CONCURRENCY) || 2;
const RUN_LIMIT_MS = Number(process.env.WIZZ_RUN_TIMEOUT_MS) || 10 * 60_000;
const VARIANT_LIMIT_MS = Number(process.env.WIZZ_VARIANT_TIMEOUT_MS) || 3 * 60_000;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  // --solutions-run FILE: check already graded solutions/ (its graders step) and hands the result over.
  options: { summary: { type: 'string' }, 'solutions-run': { type: 'string' } },
});
const reusedSolutions = values['solutions-run'] && fs.existsSync(values['solutions-run']) ? (JSON.parse(fs.readFileSync(values['solutions-run'], 'utf8')) as RunResult) : null;

let passed = 0;
let failed = 0;
function assert(ok: boolean, what: string, why = ''): boolean {
  if (ok) passed++;
  else failed++;
  console.log(`  ${ok ? c.green('✓') : c.red('✗')} ${what}${!ok && why ? c.red(` — ${why}`) : ''}`);
  return ok;
}
const header = (s: string) => console.log('\n' + c.bold(s));

const manifest = loadManifest();
const labsStages = stageDirs(LABS);
let selected = manifest.map((s) => s.id);
if (positionals.length) {
  selected = positionals.map((a) => {
    const r = resolveStage(a, [...new Set([...selected, ...labsStages])]);
    if ('error' in r) throw new Error(r.error);
    return r.id;
  });
}

function graderFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.test.ts') && !f.split(path.sep).includes('wrong'));
}

// 1. Completeness
header('1. Every stage is complete (labs/stages.json ↔ labs/ ↔ solutions/)');
const gradable: string[] = []; // stages with a labs folder and graders
const withSolutions = new Set<string>();
const variants = new Map<string, Variant[]>();
for (const id of selected) {
  const stage = manifest.find((s) => s.id === id);
  const labDir = path.join(LABS, id);
  if (!assert(fs.existsSync(labDir), `${id}: has labs/${id}/`, 'not written yet')) continue;
  assert(!!stage, `${id}: is listed in labs/stages.json`, 'add it to the manifest so the scoreboard, hints and honesty know it');
  const hasSol = fs.existsSync(path.join(SOLUTIONS, id));
  assert(hasSol, `${id}: has solutions/${id}/`);
  if (hasSol) {
    withSolutions.add(id);
    // solutions/NN is the starter completed: each of its files must have a starter in labs/NN.
    const solFiles = (fs.readdirSync(path.join(SOLUTIONS, id), { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(SOLUTIONS, id, f)).isFile());
    const missing = solFiles.filter((f) => !fs.existsSync(path.join(labDir, f)));
    assert(missing.length === 0, `${id}: every solution file has a starter in labs/`, `missing: ${missing.join(', ')}`);
  }
  assert(fs.existsSync(path.join(labDir, 'README.md')), `${id}: has a README.md`);
  const graders = graderFiles(labDir);
  if (assert(graders.length >= 1, `${id}: has graders (${graders.length} *.test.ts)`)) gradable.push(id);
  if (stage) {
    const empty = stage.hints.filter((h) => !h.trim()).length;
    assert(stage.hints.length === 3 && empty === 0, `${id}: has three hints`, `${stage.hints.length} listed, ${empty} empty`);
    assert(fs.existsSync(path.join(ROOT, stage.read)), `${id}: its docs page ${stage.read} exists`);
  }
  const vs = listVariants(labDir);
  const good: Variant[] = [];
  for (const v of vs) {
    if ('error' in v) assert(false, `${id}: wrong/${v.slug}.ts has a valid header`, v.error);
    else if (hasSol && !fs.existsSync(path.join(SOLUTIONS, id, v.replaces))) assert(false, `${id}: wrong/${v.slug}.ts replaces an existing file`, `solutions/${id}/${v.replaces} does not exist`);
    else good.push(v);
  }
  variants.set(id, good);
  const need = hasSol ? MIN_VARIANTS : 1;
  assert(good.length >= need, `${id}: has ≥ ${need} known-wrong variants (${good.length})`, 'mentors rely on these to trust the graders');
}
for (const id of labsStages) {
  if (!manifest.some((s) => s.id === id) && (positionals.length === 0 || selected.includes(id))) {
    assert(false, `${id}: labs/${id}/ is listed in labs/stages.json`, 'add it to the manifest');
  }
}

// 2 & 3: one run over all stages per target, both at once.
const solStages = gradable.filter((id) => withSolutions.has(id));
const [labsRun, solRun] = await pool(
  [
    { target: 'labs', stages: gradable },
    { target: 'solutions', stages: solStages },
  ],
  CONCURRENCY,
  async ({ target, stages }): Promise<RunResult | null> =>
    !stages.length ? null : target === 'solutions' && reusedSolutions ? reusedSolutions : runIsolated({ target, project: 'graders', filters: stages.map((id) => `labs/${id}/`), timeoutMs: RUN_LIMIT_MS }),
);

header('2. labs/ as shipped fails its graders (a passing starter means a grader that checks nothing)');
const labsBy = labsRun ? groupByStage([...labsRun.tests, ...abortedRecords(labsRun)]) : new Map<string, StageResult>();
for (const id of gradable) {
  const r = labsBy.get(id);
  const total = r ? r.passed + r.failed : 0;
  assert(!!r && r.failed > 0, `${id}: starter fails ${r?.failed ?? 0} of ${total}`, total === 0 ? 'no tests ran' : 'every grader passes on the unfinished starter');
}
if (gradable.length === 0) console.log(c.dim('  (no stage with graders yet)'));

header(`3. solutions/ passes every grader${reusedSolutions ? ' (the run of check\'s graders step)' : ''}`);
const solBy = solRun ? groupByStage([...solRun.tests, ...abortedRecords(solRun)]) : new Map<string, StageResult>();
const solOk = new Set<string>();
for (const id of solStages) {
  const r = solBy.get(id);
  const total = r ? r.passed + r.failed : 0;
  const ok = assert(!!r && r.failed === 0 && total > 0, `${id}: solution passes ${r?.passed ?? 0} of ${total}`, total === 0 ? 'no tests ran' : r!.failures.map((t: TestRecord) => `${t.name}: ${t.errors[0]?.message.split('\n')[0] ?? ''}`).slice(0, 3).join('; '));
  if (ok) solOk.add(id);
}
if (solRun?.unhandled.length) assert(false, 'solutions run has no errors outside tests', solRun.unhandled[0]!.message.split('\n')[0]);
if (solStages.length === 0) console.log(c.dim('  (no stage with graders and a solution yet)'));

// 4. Known-wrong variants, in parallel.
header('4. Every known-wrong variant fails the graders');
const todo = solStages.flatMap((id) => (solOk.has(id) ? variants.get(id)! : []));
for (const id of solStages) if (!solOk.has(id) && variants.get(id)!.length) console.log(c.dim(`  ${id}: variants skipped — its solution does not pass, so a failing variant would prove nothing`));
const started = Date.now();
// Widths come from the list, so each row can be printed the moment its variant finishes.
const width = (k: (v: Variant) => string, min: number, max = 80) => Math.min(max, Math.max(min, ...todo.map((v) => k(v).length)));
const ws = width((v) => v.stage, 5);
const wv = width((v) => v.slug, 7);
const wm = width((v) => v.mistake, 7, 60);
if (todo.length) console.log(c.bold(`  ${pad('stage', ws)}  ${pad('variant', wv)}  ${pad('mistake', wm)}  result`));
else console.log(c.dim('  (no variants to run)'));
const tally: Record<string, number> = {};
await pool(todo, CONCURRENCY, async (v) => {
  const t0 = Date.now();
  let dir: string | null = null;
  let verdict: Verdict;
  let note = '';
  try {
    dir = buildOverlay(SOLUTIONS, v);
    // No `bail`: tried, and cancelling mid-stage could wait on a busy worker until the hard limit,
    // turning a plain "caught" into "failed by timeout".
    const run = await runIsolated({ target: dir, project: 'graders', filters: [`labs/${v.stage}/`], timeoutMs: VARIANT_LIMIT_MS });
    verdict = variantVerdict(run);
    note = run.tests.find((t) => t.state === 'failed')?.name ?? '';
  } catch (e) {
    verdict = 'failed by crash';
    note = (e as Error).message;
  } finally {
    if (dir) removeOverlay(dir);
  }
  const ok = verdictPasses(verdict);
  if (ok) passed++;
  else failed++;
  tally[verdict] = (tally[verdict] ?? 0) + 1;
  const mistake = v.mistake.length > wm ? v.mistake.slice(0, wm - 1) + '…' : v.mistake;
  const res = verdict === 'caught' ? c.green(verdict) : ok ? c.yellow(verdict) : c.red(verdict);
  const why =
    verdict === 'caught' ? c.dim(` by "${note}"`) : verdict === 'NOT CAUGHT' ? c.red(' — no grader notices this mistake') : verdict === 'does not load' ? c.red(' — fix the variant\'s imports') : '';
  console.log(`  ${pad(v.stage, ws)}  ${pad(v.slug, wv)}  ${pad(mistake, wm)}  ${res}${c.dim(` ${((Date.now() - t0) / 1000).toFixed(1)}s`)}${why}`);
});
if (todo.length) {
  const counts = Object.entries(tally).map(([k, n]) => `${n} ${k}`).join(', ');
  console.log(c.dim(`  ${todo.length} variants in ${((Date.now() - started) / 1000).toFixed(1)} s, ${CONCURRENCY} at a time: ${counts}`));
}

console.log(`\nhonesty: ${passed} passed, ${failed} failed`);
writeSummary(values.summary, { passed, failed });
process.exit(failed ? 1 : 0);
