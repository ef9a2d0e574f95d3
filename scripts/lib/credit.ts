// What the scoreboard may credit. A stage is "not started" while its starter files are exactly as
// shipped, and a check that already passes on the untouched starter earns nothing (stage 04's
// starter passes 18 of its checks: they say nothing about the learner's work).
//
// Which checks pass on the starter is learned once per (starter, graders) pair and cached in
// .wizz/starter-baseline.json: for free from a run of an untouched stage, or, for a stage the
// learner edited before it was ever graded, by grading the shipped starter in an overlay.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { LABS, ROOT, STATE_DIR } from './paths.ts';
import { testId, type RunResult, type StageResult } from './results.ts';
import { changedFiles, shippedStarter, starterSource, writeStarter, type ShippedStarter, type StarterSource } from './starter.ts';

export interface StageCredit {
  /** true: a starter file was changed; false: byte-identical to the shipped starter; null: unknown (no git). */
  edited: boolean | null;
  /** testId()s that pass on the shipped starter; null when not known. */
  starterPasses: Set<string> | null;
}

export const BASELINE_FILE = path.join(STATE_DIR, 'starter-baseline.json');

interface BaselineCache {
  stages: Record<string, { key: string; passing: string[] }>;
}

export function loadBaselines(file = BASELINE_FILE): BaselineCache {
  try {
    const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<BaselineCache>;
    return { stages: raw.stages && typeof raw.stages === 'object' ? raw.stages : {} };
  } catch {
    return { stages: {} };
  }
}

function saveBaselines(cache: BaselineCache, file = BASELINE_FILE): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(cache, null, 1) + '\n');
}

/** Changes when the starter or the stage's graders change: then the baseline is learned again. */
export function baselineKey(shipped: ShippedStarter, labsDir = LABS): string {
  const h = crypto.createHash('sha256');
  for (const [file, text] of [...shipped.files].sort(([a], [b]) => a.localeCompare(b))) h.update(`starter ${file}\0${text}\0`);
  const stageDir = path.join(labsDir, shipped.stage);
  const graders = fs.existsSync(stageDir) ? fs.readdirSync(stageDir).filter((f) => f.endsWith('.test.ts')).sort() : [];
  for (const f of graders) h.update(`grader ${f}\0${fs.readFileSync(path.join(stageDir, f), 'utf8')}\0`);
  return h.digest('hex').slice(0, 24);
}

/** A result cut short by a timeout or a crash does not say which checks the starter passes. */
const complete = (r: StageResult) => !r.failures.some((f) => f.errors.some((e) => e.name === 'RunTimeout' || e.name === 'RunnerCrash'));

export interface CreditOptions {
  /** Root of the graded code (labs/, solutions/, an overlay). */
  targetDir: string;
  /** Grades shipped starters in an overlay dir; omitted = never measure, leave unknown baselines unknown. */
  gradeStarters?: (overlayDir: string, stageIds: string[]) => Promise<RunResult>;
  /** Told before a measurement starts (it takes a while). */
  onMeasure?: (stageIds: string[]) => void;
  /** Defaults to the project's git (starterSource()). */
  source?: StarterSource | null;
  cacheFile?: string;
  /** Where the starter overlay is built (inside the repository, so its imports resolve). */
  overlayParent?: string;
}

/** Credit for each graded stage of `results`. */
export async function assessCredit(results: Map<string, StageResult>, opts: CreditOptions): Promise<Map<string, StageCredit>> {
  const source = opts.source !== undefined ? opts.source : starterSource();
  const cacheFile = opts.cacheFile ?? BASELINE_FILE;
  const cache = loadBaselines(cacheFile);
  let dirty = false;
  const out = new Map<string, StageCredit>();
  const toMeasure: Array<{ shipped: ShippedStarter; key: string }> = [];

  for (const [id, result] of results) {
    const shipped = shippedStarter(id, source);
    if (!shipped) {
      out.set(id, { edited: null, starterPasses: null });
      continue;
    }
    const edited = changedFiles(shipped, path.join(opts.targetDir, id)).length > 0;
    const key = baselineKey(shipped, path.join(source?.root ?? ROOT, 'labs'));
    const known = cache.stages[id]?.key === key ? cache.stages[id]!.passing : null;
    if (known) out.set(id, { edited, starterPasses: new Set(known) });
    else if (!edited && complete(result)) {
      // This run graded the starter itself: remember what it passes.
      cache.stages[id] = { key, passing: [...result.passing].sort() };
      dirty = true;
      out.set(id, { edited, starterPasses: new Set(result.passing) });
    } else {
      out.set(id, { edited, starterPasses: null });
      if (edited) toMeasure.push({ shipped, key });
    }
  }

  if (toMeasure.length && opts.gradeStarters) {
    const ids = toMeasure.map((m) => m.shipped.stage);
    opts.onMeasure?.(ids);
    const dir = path.join(opts.overlayParent ?? path.join(STATE_DIR, 'overlays'), `starters-${process.pid}`);
    fs.rmSync(dir, { recursive: true, force: true });
    try {
      for (const m of toMeasure) writeStarter(m.shipped, dir);
      const run = await opts.gradeStarters(dir, ids);
      for (const m of toMeasure) {
        const id = m.shipped.stage;
        const passing = run.tests.filter((t) => t.state === 'passed' && t.file.startsWith(`labs/${id}/`)).map(testId);
        cache.stages[id] = { key: m.key, passing: passing.sort() };
        dirty = true;
        out.set(id, { edited: true, starterPasses: new Set(passing) });
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  if (dirty) {
    try {
      saveBaselines(cache, cacheFile);
    } catch {
      /* a read-only checkout still gets a scoreboard, just without the cache */
    }
  }
  return out;
}
