// Scenario grading: fast-check generates client stories, each is played against the stage server
// and checked against the model; on a failure fast-check shrinks the story and the learner reads
// the shortest one that breaks the server. Deterministic: a fixed seed unless WIZZ_SEED is given.
import fc from 'fast-check';
import type { RunServer } from '../server-options.ts';
import { formatFailure } from './format.ts';
import { runStory, type RunOptions } from './run.ts';
import { stories, type Story } from './story.ts';

/** Stories a learner's run tries: enough to find the classic mistakes, quick enough for `npm test`. */
export const LEARNER_RUNS = 200;
/** Stories the reference solutions must pass when graded in CI (`npm run check`). */
export const SOLUTION_RUNS = 1_000;
const DEFAULT_SEED = 20_260_101;

export interface ScenarioGrade extends RunOptions {
  /** The stage folder, e.g. "03-epoll" (for the replay command). */
  stage: string;
  runServer: RunServer;
  variant?: string;
  /** Stories to try, if not scenarioRuns() (a stage graded on several backends shares them out). */
  runs?: number;
}

/** How many stories: WIZZ_SCENARIO_RUNS, else 1,000 for the solutions and 150 for anything else. */
export function scenarioRuns(): number {
  const fromEnv = Number(process.env.WIZZ_SCENARIO_RUNS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return process.env.WIZZ_TARGET === 'solutions' ? SOLUTION_RUNS : LEARNER_RUNS;
}

export function scenarioSeed(): number {
  const fromEnv = Number(process.env.WIZZ_SEED);
  return Number.isInteger(fromEnv) && process.env.WIZZ_SEED !== '' ? fromEnv : DEFAULT_SEED;
}

/** A vitest timeout that fits the number of stories (each takes a few virtual-clock milliseconds of real time). */
export function scenarioTimeout(runs = scenarioRuns()): number {
  return 30_000 + runs * 150;
}

/** Plays generated stories; throws the readable report of the shortest failing one. */
export async function gradeScenarios(grade: ScenarioGrade): Promise<void> {
  const seed = scenarioSeed();
  const runs = grade.runs ?? scenarioRuns();
  const options: RunOptions = { ...(grade.wall ? { wall: true } : {}), ...(grade.limit ? { limit: true } : {}) };
  const details = await fc.check(
    fc.asyncProperty(stories({ wall: grade.wall ?? false, limit: grade.limit ?? false }), async (story) => (await runStory(grade.runServer, story, options)).failure === null),
    // Shrinks (fast-check's default) unless configured globally to stop at the first failure, as
    // the honesty check does for known-wrong variants: nobody reads the story there.
    { numRuns: runs, seed },
  );
  if (!details.failed || details.counterexample === null) {
    if (details.failed) throw new Error(`scenario grading failed without a story: ${String(details.errorInstance)}`);
    return;
  }
  const [story] = details.counterexample as [Story];
  const result = await runStory(grade.runServer, story, options);
  if (result.failure === null) {
    throw new Error(`a story failed once and passed when replayed: the server behaves differently run to run (seed ${seed})`);
  }
  throw new ScenarioFailure(
    formatFailure({ stage: grade.stage, ...(grade.variant ? { variant: grade.variant } : {}), seed, runs: details.numRuns, shrinks: details.numShrinks, story, result }),
  );
}

/** A failure whose message is the whole report: no stack trace worth reading. */
export class ScenarioFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScenarioFailure';
    this.stack = `${this.name}: ${message}`;
  }
}
