// The mentor's rule: pool only when allocation costs enough to matter. If garbage collection
// takes more than 10–15 % of the time under load, pool the hottest buffers; below that, don't.
import type { GcReport } from './measure.ts';

/** Below this share, a pool cannot pay for its complexity. */
export const NO_POOL_BELOW = 0.1;
/** Above this share, allocation is a real cost: pool the highest-frequency buffers. */
export const POOL_ABOVE = 0.15;

export type Verdict = 'pool' | 'no-pool' | 'borderline';

/** 'borderline' between the two thresholds: measure a longer, more realistic load before deciding. */
export function verdict(report: GcReport): Verdict {
  // TODO: 'pool' above POOL_ABOVE, 'no-pool' below NO_POOL_BELOW, 'borderline' in between.
  void report;
  throw new Error('TODO: verdict');
}
