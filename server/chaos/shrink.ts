// One history per seed, run through fast-check: the seed generates the plan; when the checker
// finds a violation, fast-check shrinks the plan (fewer steps, simpler values) and re-runs each
// candidate against the target, keeping the smallest that still fails. A candidate that passes
// once may be tried again (shrinkTries: races do not fail every time). The shrunk plan replays with its seed and
// fast-check's path.
import fc from 'fast-check';
import { check, type Violation } from './checker.ts';
import { planArbitrary, type Plan } from './generator.ts';
import type { History } from './history.ts';
import { runPlan } from './runner.ts';
import type { Target } from './targets.ts';

export interface ExploreOptions {
  target: Target;
  faults: string[];
  seed: number;
  /** fast-check's path of a shrunk counterexample: replays that history alone. */
  path?: string;
  /** Time for shrinking once a failure is found (the smallest failure so far is kept after it). */
  shrinkBudgetMs: number;
  maxSteps?: number;
  /** Every plan has at least one fault step. */
  mustFault?: boolean;
  /** A run longer than this is reported as stuck (default 180 s). */
  runLimitMs?: number;
  /** Runs of each shrink candidate before it counts as passing (races do not fail every time); default 1. */
  shrinkTries?: number;
  /** Called after each run (first the generated plan, then each shrink candidate). */
  /** Called with each history and its violations (for --verbose). */
  onHistory?: (history: History, violations: Violation[]) => void;
  onRun?: (info: { shrinking: boolean; failed: boolean; steps: number }) => void;
}

export interface Failure {
  plan: Plan;
  history: History;
  violations: Violation[];
}

export interface ExploreResult {
  seed: number;
  failure?: Failure;
  /** fast-check's path to the shrunk plan (with --seed, replays it without shrinking again). */
  path?: string;
  runs: number;
  shrinks: number;
  /** A run that threw (the runner or the target broke, not a guarantee). */
  error?: string;
}

/** A run that takes longer than this is stuck (every wait inside is bounded far below it). */
const RUN_LIMIT_MS = 180_000;

function withinTime<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`a run took more than ${ms / 1_000} s: stuck`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export async function explore(options: ExploreOptions): Promise<ExploreResult> {
  let shrinking = false;
  let deadline = Infinity;
  let smallest: Failure | undefined;
  let runs = 0;
  const property = fc.asyncProperty(planArbitrary({ faults: options.faults, hosts: options.target.hosts, maxSteps: options.maxSteps, mustFault: options.mustFault }), async (plan) => {
    if (shrinking && Date.now() >= deadline) return true; // out of time: keep the smallest failure so far
    for (let attempt = 0; attempt < (shrinking ? options.shrinkTries ?? 1 : 1); attempt++) {
      runs++;
      const history = await withinTime(runPlan(options.target, plan), options.runLimitMs ?? RUN_LIMIT_MS);
      const violations = check(history);
      options.onHistory?.(history, violations);
      options.onRun?.({ shrinking, failed: violations.length > 0, steps: plan.steps.length });
      if (violations.length > 0) {
        smallest = { plan, history, violations };
        if (!shrinking) {
          shrinking = true;
          deadline = Date.now() + options.shrinkBudgetMs;
        }
        return false;
      }
    }
    return true;
  });
  const details = await fc.check(property, { seed: options.seed, numRuns: 1, unbiased: true, ...(options.path ? { path: options.path } : {}) });
  return {
    seed: options.seed,
    failure: details.failed ? smallest : undefined,
    path: details.failed ? (details.counterexamplePath ?? undefined) : undefined,
    runs,
    shrinks: details.numShrinks,
    ...(details.failed && !smallest ? { error: String((details.errorInstance as Error | undefined)?.stack ?? details.errorInstance) } : {}),
  };
}
