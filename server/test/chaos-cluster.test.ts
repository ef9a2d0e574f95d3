// The chaos runner on three hosts (issue 19): generated client histories against three real hosts
// sharing a real redis-server and PostgreSQL, while a nemesis restarts Redis empty, stalls it
// (SIGSTOP), kills a host with -9 (then restarts it) and stops a host (SIGSTOP); the first history has
// no fault, each other one at least its fault, early (what it leaves behind shows in the rest). Every history is checked against the model of the Guarantees page and of
// "Guarantees, and what breaks them" (docs/server/cluster.md); a failure is shrunk and printed with
// the seed that replays it. Seeds rotate by day, as in chaos.test.ts (WIZZ_CHAOS_SEED pins them).
import { afterAll, describe, expect, it } from 'vitest';
import { campaign, seedOfTheDay } from '../chaos/campaign.ts';
import { ClusterTarget } from '../chaos/targets.ts';

const firstSeed = (process.env.WIZZ_CHAOS_SEED ? Number(process.env.WIZZ_CHAOS_SEED) : seedOfTheDay()) + 700;
let target: ClusterTarget | undefined;
afterAll(async () => {
  await target?.stop();
});

describe('chaos, three hosts', () => {
  it('three hosts under Redis restart, Redis stall, host kill -9 and host SIGSTOP keep every guarantee', { timeout: 300_000 }, async () => {
    target = await ClusterTarget.start(3);
    const result = await campaign({
      target,
      // The first history has no fault (what a fault would repair, a ghost, shows there); then two
      // faults per history, so four faults cost two histories in check.
      faults: [[], ['redis-stall', 'host-kill'], ['host-pause', 'redis-restart']],
      firstSeed,
      histories: 3,
      budgetMs: 200_000, // a cap: the five histories run whatever the machine's load
      shrinkBudgetMs: 60_000,
      maxSteps: 30,
      mustFault: true,
      replayFlags: '--hosts 3',
    });
    console.log(`[chaos] three hosts (${target.cluster.description}): ${result.histories} histories, ${result.runs} runs, seeds from ${firstSeed}`);
    expect(result.failure, result.failure ?? '').toBeNull();
    expect(result.histories).toBe(3); // none without faults, then every fault once
  });
});
