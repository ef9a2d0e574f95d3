// One grading run of the learner's stages (all, or one), shared by `npm test` and `npm run watch`.
import path from 'node:path';
import { LABS, ROOT, SOLUTIONS } from './paths.ts';
import { runIsolated } from './run-isolated.ts';
import type { RunResult, StageResult } from './results.ts';
import { assessCredit, type StageCredit } from './credit.ts';
import { c } from './color.ts';

export function targetDirOf(target: string): string {
  if (target === 'labs') return LABS;
  if (target === 'solutions') return SOLUTIONS;
  return path.resolve(ROOT, target);
}

/** Env override for the hard limit, e.g. on a slow machine. */
const LIMIT_MS = Number(process.env.WIZZ_GRADE_TIMEOUT_MS) || 5 * 60_000;

export async function gradeRun(target: string, stageIds: string[] | null, label = 'grading…'): Promise<RunResult> {
  const live = process.stdout.isTTY;
  let n = 0;
  const run = await runIsolated({
    target,
    project: 'graders',
    filters: stageIds ? stageIds.map((id) => `labs/${id}/`) : [],
    passWithNoTests: true, // no stage folders yet is not the learner's failure
    timeoutMs: LIMIT_MS,
    onTest: () => {
      n++;
      if (live) process.stdout.write(`\r${c.dim(`${label} ${n} checks`)}`);
    },
  });
  if (live) process.stdout.write('\r\x1b[K');
  return run;
}

/**
 * What the scoreboard may credit for these results: which stages were edited, and which checks
 * pass on the shipped starter — learned by grading the starter once when no run has shown it yet
 * (for labs/ only).
 */
export function creditFor(results: Map<string, StageResult>, target: string): Promise<Map<string, StageCredit>> {
  return assessCredit(results, {
    targetDir: targetDirOf(target),
    // Only the learner's own labs/ are worth the extra run; other targets use what is cached.
    ...(target === 'labs' ? { gradeStarters: (dir: string, ids: string[]) => gradeRun(dir, ids, 'grading the shipped starter…') } : {}),
    onMeasure: (ids) =>
      console.log(c.dim(`Once only: grading the shipped starter of ${ids.join(', ')} to learn which checks it already passes (kept in .wizz/).`)),
  });
}
