// The order failures are told in: correctness first, then robustness, then cost, as the README and
// the labs index promise — a cost figure means little while the chat is still wrong. Test results
// arrive in whatever order the grader files finish, so the report sorts them.
import type { TestRecord } from './results.ts';

export type FailureKind = 'correctness' | 'robustness' | 'cost';

const COST = /(^|\/)cost\.test\.ts$|\bcost\b|\bO\(n\)|does the work of|\bcounted\b|allocations|per wake-up|wake-ups|fds inspected|bytes copied/i;
const ROBUSTNESS = /(^|\/)(hostile|limits)\.test\.ts$|hostile|survives|misuse|\blimits\b|bad frames?|recover|durab|comes back|leak|spins?\b|slow consumer|FD_SETSIZE/i;

/** The kind of check a grader is, from its file name and its describe/test names. */
export function failureKind(t: Pick<TestRecord, 'file' | 'name'>): FailureKind {
  // The suite name (before the first " > ") says what the group is about; the test name refines it.
  const suite = t.name.split(' > ')[0] ?? '';
  if (COST.test(t.file) || COST.test(suite)) return 'cost';
  if (ROBUSTNESS.test(t.file) || ROBUSTNESS.test(suite)) return 'robustness';
  if (COST.test(t.name)) return 'cost';
  if (ROBUSTNESS.test(t.name)) return 'robustness';
  return 'correctness';
}

const RANK: Record<FailureKind, number> = { correctness: 0, robustness: 1, cost: 2 };

/** Correctness, robustness, cost; within a kind by grader file, then in the order the file declares them. */
export function orderFailures<T extends Pick<TestRecord, 'file' | 'name'>>(failures: readonly T[]): T[] {
  return failures
    .map((t, i) => ({ t, i, k: RANK[failureKind(t)] }))
    .sort((a, b) => a.k - b.k || a.t.file.localeCompare(b.t.file) || a.i - b.i)
    .map((x) => x.t);
}
