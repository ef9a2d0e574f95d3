// How the honesty check reads the grading of one known-wrong variant.
import type { RunResult } from './results.ts';
import { classify } from './explain.ts';

export type Verdict =
  | 'caught'
  | 'failed by timeout'
  | 'failed by crash'
  | 'NOT CAUGHT'
  | 'no tests ran'
  | 'does not load'
  | 'does not apply'
  | 'does not compile';

/**
 * A variant must make at least one grader fail. A real assertion failure is "caught"; a failure that
 * is only a timeout or the runner dying still counts as failing, but is reported distinctly because
 * it says less about the grader (it may be slowness, not detection). A variant that cannot even be
 * imported tests nothing: that is a broken variant, not a caught one — and so is a patch that no
 * longer applies to the solution or does not type-check (decided before grading, see honesty.ts).
 */
export function variantVerdict(run: RunResult): Verdict {
  const failed = run.tests.filter((t) => t.state === 'failed');
  const ran = run.tests.filter((t) => t.state !== 'skipped').length;
  if (run.aborted?.reason === 'timeout' && !failed.some(isRealFailure)) return 'failed by timeout';
  if (run.aborted?.reason === 'crash' && !failed.some(isRealFailure)) return 'failed by crash';
  if (failed.some(isRealFailure)) return 'caught';
  if (failed.length && failed.every((t) => t.errors.some((e) => classify(e) === 'import'))) return 'does not load';
  if (failed.length) return failed.every((t) => t.errors.some((e) => classify(e) === 'timeout')) ? 'failed by timeout' : 'failed by crash';
  if (run.unhandled.length) return 'failed by crash';
  return ran === 0 ? 'no tests ran' : 'NOT CAUGHT';
}

function isRealFailure(t: RunResult['tests'][number]): boolean {
  return t.errors.some((e) => !['timeout', 'crash', 'import'].includes(classify(e)));
}

export const verdictPasses = (v: Verdict) => v === 'caught' || v === 'failed by timeout' || v === 'failed by crash';
