// `npm run honesty [-- NN ...] [--summary FILE] [--keep]`: are the graders honest?
//   1. every stage is complete: folders, README, graders (incl. the imports grader), three hints,
//      an "imports" list, ≥ 3 known-wrong variants; and labs/ holds no solution code nor variant
//   2. labs/ as shipped FAILS its graders (a starter that passes means a grader checks nothing)
//   3. solutions/ PASSES them
//   4. every solutions/NN/wrong/*.patch applies to a copy of solutions/, type-checks, and FAILS at
//      least one grader; one that no longer applies or compiles fails this check (never "caught")
//   5. with --messages: a variant with a `# first message: <regex>` line names its mistake in the
//      first failure a learner would be shown (npm test's order: correctness, robustness, cost) —
//      such a variant is then graded in full, not stopped at its first failure, which costs minutes:
//      maintainers run it when graders or messages change, like the mutation score (not in check)
// 2–4 run in ONE vitest process, one project per target, the must-fail ones stopping at their first
// failure. Prints a table per part and ends with "honesty: N passed, N failed"; exit 1 on any failure.
import fs from 'node:fs';
import path from 'node:path';
import { parseCommand } from '../server/util/cli.ts';
import { loadManifest, resolveStage, stageDirs } from './lib/stages.ts';
import { LABS, ROOT, SOLUTIONS } from './lib/paths.ts';
import { groupByStage, type RunResult, type StageResult, type TestRecord, abortedRecords } from './lib/results.ts';
import { PatchError, buildOverlay, listVariants, overlayRunDir, removeOverlay, type Variant } from './lib/overlay.ts';
import { typecheckOverlays } from './lib/overlay-tsc.ts';
import { gradeTargets, type PlannedProject } from './lib/multi-run.ts';
import { labsProblems } from './lib/labs-clean.ts';
import { variantVerdict, verdictPasses, type Verdict } from './lib/verdict.ts';
import { orderFailures } from './lib/order.ts';
import { explainFailure } from './lib/explain.ts';
import { writeSummary } from './lib/summary.ts';
import { warmImportsCache } from '../labs/kit/imports.ts';
import { c, pad } from './lib/color.ts';

const MIN_VARIANTS = 3;
const WORKERS = Number(process.env.WIZZ_HONESTY_WORKERS) || 2;
const RUN_LIMIT_MS = Number(process.env.WIZZ_RUN_TIMEOUT_MS) || 30 * 60_000;
const STALL_MS = Number(process.env.WIZZ_STALL_TIMEOUT_MS) || 5 * 60_000;
const IMPORT_PATTERN = /^(node:\*|\.\/\*|#[a-z0-9-]+\/(\*|[A-Za-z0-9_./-]+)|[a-z0-9@][a-z0-9@/._-]*)$/;

const USAGE = `usage: npm run honesty [-- NN ...] [--messages] [--keep] [--summary FILE] [--solutions-run FILE]
  starters fail, solutions pass, every solutions/NN/wrong/*.patch applies, compiles and is caught
  NN                    only these stages (default: all)
  --messages            also: the first failure a learner sees matches the variant's "# first message:"
                        (grades those variants in full: minutes, so not part of npm run check)
  --keep                leave the graded overlays in .wizz/overlays/ to look at
  --summary FILE        write the counts for npm run check
  --solutions-run FILE  reuse check's graders run of solutions/ instead of grading them again`;
const { values, positionals } = parseCommand(
  {
    summary: { type: 'string' },
    // --solutions-run FILE: check already graded solutions/ (its graders step) and hands the result over.
    'solutions-run': { type: 'string' },
    keep: { type: 'boolean' }, // keep .wizz/overlays/honesty-*/ to look at
    messages: { type: 'boolean' }, // also check each variant's "# first message:" (grades those in full)
  },
  USAGE,
);
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
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const t0 = Date.now();

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

/** A stage's grader files, relative to the project root. */
function graderFiles(stage: string): string[] {
  const dir = path.join(LABS, stage);
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .filter((f) => f.endsWith('.test.ts') && !f.split(path.sep).includes('node_modules'))
    .map((f) => `labs/${stage}/${f.split(path.sep).join('/')}`)
    .sort();
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
  const solDir = path.join(SOLUTIONS, id);
  const hasSol = fs.existsSync(solDir);
  assert(hasSol, `${id}: has solutions/${id}/`);
  if (hasSol) {
    withSolutions.add(id);
    // solutions/NN is the starter completed: each of its files must have a starter in labs/NN.
    const solFiles = (fs.readdirSync(solDir, { recursive: true }) as string[]).filter((f) => !f.split(path.sep).includes('wrong') && fs.statSync(path.join(solDir, f)).isFile());
    const missing = solFiles.filter((f) => !fs.existsSync(path.join(labDir, f)));
    assert(missing.length === 0, `${id}: every solution file has a starter in labs/`, `missing: ${missing.join(', ')}`);
  }
  assert(fs.existsSync(path.join(labDir, 'README.md')), `${id}: has a README.md`);
  const graders = graderFiles(id);
  if (assert(graders.length >= 1, `${id}: has graders (${graders.length} *.test.ts)`)) gradable.push(id);
  assert(graders.includes(`labs/${id}/imports.test.ts`), `${id}: has the imports grader (imports.test.ts)`, 'copy one from another stage: it checks what the stage\'s files import');
  if (stage) {
    const empty = stage.hints.filter((h) => !h.trim()).length;
    assert(stage.hints.length === 3 && empty === 0, `${id}: has three hints (scripts/hints.json)`, `${stage.hints.length} listed, ${empty} empty`);
    assert(fs.existsSync(path.join(ROOT, stage.read)), `${id}: its docs page ${stage.read} exists`);
    const imports = (stage as { imports?: unknown }).imports;
    const bad = Array.isArray(imports) ? imports.filter((p) => typeof p !== 'string' || !IMPORT_PATTERN.test(p) || p.startsWith('#stage/')) : null;
    assert(
      !!bad && bad.length === 0,
      `${id}: lists what its files may import ("imports": ${Array.isArray(imports) ? imports.length : 0})`,
      bad ? `not a module pattern: ${bad.map(String).join(', ')}` : 'add "imports": ["node:*", "./*", …] to its entry in labs/stages.json',
    );
  }
  const good: Variant[] = [];
  for (const v of hasSol ? listVariants(solDir) : []) {
    if ('error' in v) assert(false, `${id}: wrong/${v.slug}.patch is a valid variant`, v.error);
    else good.push(v);
  }
  variants.set(id, good);
  if (hasSol) assert(good.length >= MIN_VARIANTS, `${id}: has ≥ ${MIN_VARIANTS} known-wrong variants (${good.length} in solutions/${id}/wrong/)`, 'mentors rely on these to trust the graders');
}
for (const id of labsStages) {
  if (!manifest.some((s) => s.id === id) && (positionals.length === 0 || selected.includes(id))) {
    assert(false, `${id}: labs/${id}/ is listed in labs/stages.json`, 'add it to the manifest');
  }
}
const problems = labsProblems(LABS, SOLUTIONS, selected.filter((id) => withSolutions.has(id)));
assert(problems.length === 0, 'labs/ holds no solution code and no known-wrong variant', problems.slice(0, 5).map((p) => `labs/${p.file}: ${p.why}`).join('; '));

// 2–4 in one vitest process.
const solStages = gradable.filter((id) => withSolutions.has(id));
const reusedBy = reusedSolutions ? groupByStage([...reusedSolutions.tests, ...abortedRecords(reusedSolutions)]) : null;
// With check's run in hand, variants of a stage whose solution fails are not even built.
const reusedOk = (id: string) => !reusedBy || ((reusedBy.get(id)?.failed ?? 1) === 0 && (reusedBy.get(id)?.passed ?? 0) > 0);
const todo = solStages.flatMap((id) => (reusedOk(id) ? variants.get(id)! : []));

const runDir = overlayRunDir();
if (!values.keep) process.on('exit', () => removeOverlay(runDir));
interface Job {
  v: Variant;
  dir: string | null;
  verdict?: Verdict;
  note: string;
}
const jobs: Job[] = todo.map((v) => {
  try {
    return { v, dir: buildOverlay(SOLUTIONS, v, runDir), note: '' };
  } catch (e) {
    if (!(e instanceof PatchError)) throw e;
    return { v, dir: null, verdict: 'does not apply' as const, note: e.message };
  }
});
const built = jobs.filter((j) => j.dir);
const tBuilt = Date.now();

// The imports grader parses each file once (cached by content): do all of them here, with one load
// of the compiler, instead of once in every grader process.
await warmImportsCache([
  ...gradable.map((id) => path.join(LABS, id)),
  ...solStages.map((id) => path.join(SOLUTIONS, id)),
  ...built.map((j) => path.join(j.dir!, j.v.stage)),
]);

const markers = path.join(runDir, 'bail');
fs.mkdirSync(markers, { recursive: true });
const projects: PlannedProject[] = [
  ...gradable.map((id) => ({ name: `starter ${id}`, dir: LABS, target: 'labs', stages: [id], bailMarker: path.join(markers, `starter-${id}`) })),
  ...(reusedSolutions || !solStages.length ? [] : [{ name: 'solutions', dir: SOLUTIONS, target: 'solutions', stages: solStages }]),
  // A variant whose first message is checked runs in full: the learner sees every failure, in order.
  ...built.map((j) => ({ name: `variant ${j.v.stage}/${j.v.slug}`, dir: j.dir!, target: j.dir!, stages: [j.v.stage], ...(values.messages && j.v.message !== undefined ? {} : { bailMarker: path.join(markers, `${j.v.stage}--${j.v.slug}`) }) })),
];
const live = process.stdout.isTTY;
let finishedTests = 0;
const [tsc, graded] = await Promise.all([
  typecheckOverlays(
    built.map((j) => ({ dir: j.dir!, stage: j.v.stage })),
    runDir,
  ),
  gradeTargets(projects, {
    workDir: runDir,
    maxWorkers: WORKERS,
    timeoutMs: RUN_LIMIT_MS,
    stallMs: STALL_MS,
    graderFiles,
    onTest: () => {
      finishedTests++;
      if (live) process.stdout.write(`\r${c.dim(`  grading ${projects.length} targets… ${finishedTests} checks`)}`);
    },
  }),
]);
if (live) process.stdout.write('\r\x1b[K');
const tGraded = Date.now();

header('2. labs/ as shipped fails its graders (a passing starter means a grader that checks nothing)');
for (const id of gradable) {
  const recs = graded.byProject.get(`starter ${id}`) ?? [];
  const first = recs.find((t) => t.state === 'failed');
  const ran = recs.filter((t) => t.state !== 'skipped').length;
  assert(!!first, `${id}: starter fails${first ? c.dim(` (first: ${first.name})`) : ''}`, ran === 0 ? 'no tests ran' : `every grader passes on the unfinished starter (${ran} ran)`);
}
if (gradable.length === 0) console.log(c.dim('  (no stage with graders yet)'));

header(`3. solutions/ passes every grader${reusedSolutions ? " (the run of check's graders step)" : ''}`);
const solBy: Map<string, StageResult> = reusedBy ?? groupByStage(graded.byProject.get('solutions') ?? []);
const solOk = new Set<string>();
for (const id of solStages) {
  const r = solBy.get(id);
  const total = r ? r.passed + r.failed : 0;
  const ok = assert(
    !!r && r.failed === 0 && total > 0,
    `${id}: solution passes ${r?.passed ?? 0} of ${total}`,
    total === 0 ? 'no tests ran' : r!.failures.map((t: TestRecord) => `${t.name}: ${t.errors[0]?.message.split('\n')[0] ?? ''}`).slice(0, 3).join('; '),
  );
  if (ok) solOk.add(id);
}
// Errors outside tests: a variant's stray rejection is its own business; anything else is not.
const overlayDirs = built.map((j) => j.dir!);
const strays = [...(reusedSolutions?.unhandled ?? []), ...graded.unhandled].filter((e) => !e.frames.some((f) => overlayDirs.some((d) => f.file.startsWith(d))) && !overlayDirs.some((d) => e.message.includes(d)));
if (strays.length) assert(false, 'the runs have no errors outside tests', strays[0]!.message.split('\n')[0]);
if (solStages.length === 0) console.log(c.dim('  (no stage with graders and a solution yet)'));

header('4. Every known-wrong variant applies, type-checks and fails the graders');
for (const id of solStages) if (!reusedOk(id) || !solOk.has(id)) if (variants.get(id)!.length) console.log(c.dim(`  ${id}: variants skipped — its solution does not pass, so a failing variant would prove nothing`));
const shown = jobs.filter((j) => solOk.has(j.v.stage));
for (const j of shown) {
  if (j.verdict) continue; // does not apply
  const errors = tsc.get(j.dir!) ?? [];
  if (errors.length) {
    j.verdict = 'does not compile';
    j.note = errors.slice(0, 2).join(' / ');
    continue;
  }
  const recs = graded.byProject.get(`variant ${j.v.stage}/${j.v.slug}`) ?? [];
  j.verdict = variantVerdict({ tests: recs, unhandled: [] });
  j.note = recs.find((t) => t.state === 'failed')?.name ?? '';
}
const width = (k: (j: Job) => string, min: number, max = 80) => Math.min(max, Math.max(min, ...shown.map((j) => k(j).length)));
const ws = width((j) => j.v.stage, 5);
const wv = width((j) => j.v.slug, 7);
const wm = width((j) => j.v.mistake, 7, 56);
if (shown.length) console.log(c.bold(`  ${pad('stage', ws)}  ${pad('variant', wv)}  ${pad('mistake', wm)}  result`));
else console.log(c.dim('  (no variants to run)'));
const tally: Record<string, number> = {};
for (const j of shown) {
  const verdict = j.verdict!;
  const ok = verdictPasses(verdict);
  if (ok) passed++;
  else failed++;
  tally[verdict] = (tally[verdict] ?? 0) + 1;
  const ms = (graded.byProject.get(`variant ${j.v.stage}/${j.v.slug}`) ?? []).reduce((n, t) => n + t.durationMs, 0);
  const mistake = j.v.mistake.length > wm ? j.v.mistake.slice(0, wm - 1) + '…' : j.v.mistake;
  const res = verdict === 'caught' ? c.green(verdict) : ok ? c.yellow(verdict) : c.red(verdict);
  const why: Partial<Record<Verdict, string>> = {
    caught: c.dim(` by "${j.note}"`),
    'failed by timeout': c.dim(` in "${j.note}"`),
    'failed by crash': c.dim(` in "${j.note}"`),
    'NOT CAUGHT': c.red(' — no grader notices this mistake'),
    'does not load': c.red(" — fix the variant's imports"),
    'does not apply': c.red(` — ${j.note}; remake the patch against the current solution`),
    'does not compile': c.red(` — ${j.note}`),
  };
  console.log(`  ${pad(j.v.stage, ws)}  ${pad(j.v.slug, wv)}  ${pad(mistake, wm)}  ${res}${ms ? c.dim(` ${seconds(ms)}`) : ''}${why[verdict] ?? ''}`);
}
if (shown.length) {
  const counts = Object.entries(tally).map(([k, n]) => `${n} ${k}`).join(', ');
  console.log(c.dim(`  ${shown.length} variants: ${counts}`));
}
const withMessage = values.messages ? shown.filter((j) => j.v.message !== undefined && j.dir && verdictPasses(j.verdict!)) : [];
if (withMessage.length) header('5. The first message a learner sees names the mistake (variants with "# first message:")');
for (const j of withMessage) {
  const recs = graded.byProject.get(`variant ${j.v.stage}/${j.v.slug}`) ?? [];
  const first = orderFailures(recs.filter((t) => t.state === 'failed'))[0];
  const text = first ? explainFailure(first, { stage: j.v.stage, targetDir: j.dir!, sourceLine: () => undefined, relPath: (f) => path.relative(j.dir!, f) }).join('\n').replace(/\x1b\[[0-9;]*m/g, '') : '';
  const ok = new RegExp(j.v.message!, 'is').test(text); // the message has several lines: . spans them
  assert(ok, `${j.v.stage}/${j.v.slug}: the first message matches /${j.v.message}/`, `it was:\n${text.split('\n').slice(0, 6).map((l) => `      ${l}`).join('\n')}`);
}

console.log(
  c.dim(
    `\n  overlays built in ${seconds(tBuilt - t0)}; ${projects.length} targets graded in one vitest process (${WORKERS} workers${graded.rounds > 1 ? `, ${graded.rounds} rounds after a stall` : ''}) in ${seconds(tGraded - tBuilt)}, type-checked alongside`,
  ),
);

console.log(`\nhonesty: ${passed} passed, ${failed} failed ${c.dim(`(${seconds(Date.now() - t0)})`)}`);
writeSummary(values.summary, { passed, failed });
process.exit(failed ? 1 : 0);
