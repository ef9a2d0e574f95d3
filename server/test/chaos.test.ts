// The chaos runner on one host (issue 19): generated client histories against the real server
// process (2 reactors) while a nemesis kills a reactor, kills and restarts the whole server, stops it
// (SIGSTOP) and locks its SQLite file; then against the whole server in this process, where the
// database thread itself is killed. Every history is checked against the model of the Guarantees
// page (server/chaos/checker.ts); a failure is shrunk and printed with the seed that replays it.
//
// Seeds rotate by day (seedOfTheDay: the UTC day × 1,000, then +1 per history): each day explores
// new histories instead of re-proving the same ones, and a failure names its seed, so it replays
// with `npm run chaos -- --seed N`. WIZZ_CHAOS_SEED pins the first seed.
import { afterAll, describe, expect, it } from 'vitest';
import { campaign, seedOfTheDay } from '../chaos/campaign.ts';
import { HarnessTarget, ProcessTarget, type Target } from '../chaos/targets.ts';

const firstSeed = process.env.WIZZ_CHAOS_SEED ? Number(process.env.WIZZ_CHAOS_SEED) : seedOfTheDay();
const targets: Target[] = [];
afterAll(async () => {
  await Promise.allSettled(targets.map((t) => t.stop()));
});

describe('chaos, one host', () => {
  it('the real server process under reactor kill -9, server kill -9 + restart, SIGSTOP and an outside SQLite lock keeps every guarantee', { timeout: 240_000 }, async () => {
    const target = await ProcessTarget.start();
    targets.push(target);
    const result = await campaign({
      target,
      // Two faults per history (each placed in turn), so four faults cost two histories in check.
      faults: [['reactor-kill', 'sqlite-lock'], ['server-pause', 'server-kill']],
      firstSeed,
      histories: 2, // however busy the machine (a time budget would skip faults)
      budgetMs: 150_000,
      shrinkBudgetMs: 30_000,
      maxSteps: 30,
      mustFault: true,
      runLimitMs: 45_000, // a run that takes longer is stuck: reported as such
      replayFlags: '',
    });
    console.log(`[chaos] one server process: ${result.histories} histories, ${result.runs} runs, seeds from ${firstSeed}`);
    expect(result.failure, result.failure ?? '').toBeNull();
    expect(result.histories).toBe(2); // every fault once
  });

  it('the server in this process with its database thread killed and its SQLite file locked keeps every guarantee', { timeout: 150_000 }, async () => {
    const target = await HarnessTarget.start();
    targets.push(target);
    const result = await campaign({
      target,
      faults: [['db-kill', 'sqlite-lock']],
      firstSeed: firstSeed + 500,
      histories: 1,
      budgetMs: 90_000,
      shrinkBudgetMs: 30_000,
      maxSteps: 30,
      mustFault: true,
      replayFlags: '--in-process',
    });
    console.log(`[chaos] in-process server: ${result.histories} histories, ${result.runs} runs, seeds from ${firstSeed + 500}`);
    expect(result.failure, result.failure ?? '').toBeNull();
    expect(result.histories).toBe(1);
  });
});
