// One grading run of the learner's stages (all, or one), shared by `npm test` and `npm run watch`.
import path from 'node:path';
import { LABS, ROOT, SOLUTIONS } from './paths.ts';
import { runIsolated } from './run-isolated.ts';
import type { RunResult } from './results.ts';
import { c } from './color.ts';

export function targetDirOf(target: string): string {
  if (target === 'labs') return LABS;
  if (target === 'solutions') return SOLUTIONS;
  return path.resolve(ROOT, target);
}

/** Env override for the hard limit, e.g. on a slow machine. */
const LIMIT_MS = Number(process.env.WIZZ_GRADE_TIMEOUT_MS) || 5 * 60_000;

export async function gradeRun(target: string, stageIds: string[] | null): Promise<RunResult> {
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
      if (live) process.stdout.write(`\r${c.dim(`grading… ${n} checks`)}`);
    },
  });
  if (live) process.stdout.write('\r\x1b[K');
  return run;
}
