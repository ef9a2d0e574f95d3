// A bounded chaos campaign for the test suite: histories from a seed range until a time budget is
// spent, stopping at the first failure, which comes back shrunk and told as a story with the
// command that replays it.
import { explore } from './shrink.ts';
import { tell } from './story.ts';
import type { Target } from './targets.ts';

export interface CampaignOptions {
  target: Target;
  /** Fault lists, used in turn: history k uses faults[k % faults.length]. */
  faults: string[][];
  firstSeed: number;
  /** No new history starts after this many ms. */
  budgetMs: number;
  /** And none after this many histories. */
  histories?: number;
  shrinkBudgetMs: number;
  maxSteps?: number;
  mustFault?: boolean;
  runLimitMs?: number;
  /** How the replay command names the target (e.g. "--hosts 3"). */
  replayFlags: string;
}

export interface CampaignResult {
  histories: number;
  runs: number;
  /** The failing story and its replay command, or null. */
  failure: string | null;
}

/** Today's seed base (UTC day × 1,000): each day tries new histories; a failure prints its own seed. */
export function seedOfTheDay(now = Date.now()): number {
  return (Math.floor(now / 86_400_000) % 1_000_000) * 1_000;
}

export async function campaign(options: CampaignOptions): Promise<CampaignResult> {
  const started = Date.now();
  let histories = 0;
  let runs = 0;
  for (let k = 0; Date.now() - started < options.budgetMs && k < (options.histories ?? Infinity); k++) {
    const faults = options.faults[k % options.faults.length]!;
    const result = await explore({
      target: options.target,
      faults,
      seed: options.firstSeed + k,
      shrinkBudgetMs: options.shrinkBudgetMs,
      maxSteps: options.maxSteps,
      mustFault: options.mustFault,
      runLimitMs: options.runLimitMs,
    });
    histories++;
    runs += result.runs;
    if (result.error) return { histories, runs, failure: `the run itself failed (seed ${result.seed}): ${result.error}` };
    if (result.failure) {
      const replay = `npm run chaos -- --seed ${result.seed} --histories 1 ${options.replayFlags} --faults ${faults.join(',') || 'none'}`.replace(/\s+/g, ' ');
      return {
        histories,
        runs,
        failure: `${tell(result.failure.history, result.failure.violations)}\n\nReplay: ${replay}${result.path ? `\nThe shrunk history alone: ${replay} --path "${result.path}"` : ''}`,
      };
    }
  }
  return { histories, runs, failure: null };
}
