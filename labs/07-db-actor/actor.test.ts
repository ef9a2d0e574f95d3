// Stage 07 graders: the database actor. Correctness of answers and errors first, then what the
// actor is for (the event loop stays free while SQLite works), then durability and recovery.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { DbActor } from '#stage/07-db-actor/actor.ts';
import { SyncChatDb } from '#stage/07-db-actor/sync-db.ts';

let dir: string;
let file: string;
let actor: DbActor | null = null;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wizz-07-'));
  file = path.join(dir, 'chat.db');
});
afterEach(async () => {
  // Bounded: a broken exit handler must not hang the whole file.
  if (actor) await Promise.race([actor.close().catch(() => {}), new Promise((r) => setTimeout(r, 3000))]);
  actor = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

const SLOW_MS = 300;

/** Runs `work` while sampling the event loop's delay; returns p99 and max in ms. The quiet 50 ms
 *  before and after give the sampling timer a chance to fire, so a block inside `work` is seen. */
async function loopDelayDuring(work: () => Promise<unknown>): Promise<{ p99: number; max: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  await new Promise((r) => setTimeout(r, 50));
  await work();
  await new Promise((r) => setTimeout(r, 50));
  histogram.disable();
  return { p99: histogram.percentile(99) / 1e6, max: histogram.max / 1e6 };
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms — a request must never hang`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// Every test starts a worker thread, which loads TypeScript: slow on a busy machine, hence 60 s.
const THREAD_TEST_MS = 60_000;

describe('07-db-actor: answers and errors', () => {
  it('answers each request with its own result when many are in flight at once', async () => {
    actor = new DbActor(file);
    // Mixed reads, writes and failures in one tick: the actor answers reads at once and writes
    // after the batch commits, so replies come back in a different order than requests went out.
    const requests: Array<Promise<unknown>> = [];
    const expected: unknown[] = [];
    for (let i = 0; i < 60; i++) {
      switch (i % 4) {
        case 0:
          requests.push(actor.request('send', { room: 'lobby', from: `u${i}`, text: `hello ${i}` }));
          expected.push({ id: i / 4 + 1 });
          break;
        case 1:
          requests.push(actor.request('slow', { ms: i }));
          expected.push(i);
          break;
        case 2:
          requests.push(actor.request('history', { room: `empty-${i}` }).then((rows) => ({ rows, i })));
          expected.push({ rows: [], i });
          break;
        default:
          requests.push(actor.request('send', { room: 'lobby', from: `u${i}`, text: null }).then(
            () => 'resolved',
            (err: Error) => `rejected: ${/NOT NULL/i.test(err.message) ? 'NOT NULL' : err.message}`,
          ));
          expected.push('rejected: NOT NULL');
      }
    }
    const got = await within(Promise.all(requests), 30_000, '60 concurrent requests (including worker start-up)');
    for (let i = 0; i < got.length; i++) {
      expect(got[i], `request #${i} got someone else's answer (match replies by id, hint 2)`).toEqual(expected[i]);
    }
    const history = (await actor.request('history', { room: 'lobby', limit: 100 })) as Array<{ from: string; text: string }>;
    expect(history.map((r) => r.text), 'the 15 good writes, in order').toEqual(Array.from({ length: 15 }, (_, k) => `hello ${k * 4}`));
  }, THREAD_TEST_MS);

  it('sends errors back as rejected promises carrying the database message', async () => {
    actor = new DbActor(file);
    await expect(actor.request('send', { room: 'r', from: 'a', text: null }), 'a NOT NULL violation').rejects.toThrow(/NOT NULL/i);
    await expect(actor.request('nope' as never, {}), 'an unknown op').rejects.toThrow(/unknown op/);
    expect(await actor.request('count'), 'the actor keeps serving after errors').toBe(0);
  }, THREAD_TEST_MS);

  it('commits a burst of writes from one tick in a few transactions, not one each', async () => {
    actor = new DbActor(file);
    const before = ((await actor.request('stats')) as { commits: number }).commits;
    const writes = Array.from({ length: 200 }, (_, i) => actor!.request('send', { room: 'burst', from: 'x', text: String(i) }));
    await within(Promise.all(writes), 30_000, '200 writes (including worker start-up)');
    const after = ((await actor.request('stats')) as { commits: number }).commits;
    expect(after - before, `200 writes sent in one tick took ${after - before} commits; batch them into one store.transaction per tick (hint 2)`).toBeLessThanOrEqual(10);
    expect(await actor.request('count')).toBe(200);
  }, THREAD_TEST_MS);
});

describe('07-db-actor: the event loop stays free', () => {
  it(`the given synchronous version freezes the loop for a ${SLOW_MS} ms query (the contrast)`, async () => {
    const db = new SyncChatDb(file);
    try {
      const { max } = await loopDelayDuring(() => db.request('slow', { ms: SLOW_MS }));
      expect(max, 'the synchronous query should block the loop for about its own length').toBeGreaterThan(SLOW_MS * 0.8);
    } finally {
      db.close();
    }
  }, THREAD_TEST_MS);

  it(`keeps event-loop delay p99 under 100 ms while the actor runs two ${SLOW_MS} ms queries`, async () => {
    actor = new DbActor(file);
    await within(actor.request('count'), 30_000, 'the first request (worker start-up)');
    // A busy machine (other graders' threads on the same cores) can stall any thread for tens of
    // ms, so the bound is 100 ms, best of three runs. A query on this thread blocks the loop for
    // ~${SLOW_MS} ms or more in every run and can never pass; the actor's runs sit near 0–20 ms.
    const runs: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const { p99, max } = await loopDelayDuring(async () => {
        const results = await Promise.all([actor!.request('slow', { ms: SLOW_MS }), actor!.request('slow', { ms: SLOW_MS })]);
        expect(results, 'both slow queries answered').toEqual([SLOW_MS, SLOW_MS]);
      });
      runs.push(`p99 ${p99.toFixed(1)} ms (max ${max.toFixed(1)} ms)`);
      if (p99 < 100) return;
    }
    expect.fail(`event-loop delay while the queries ran: ${runs.join('; ')} — should be under 100 ms. SQLite must run in the worker, not on this thread (hint 1)`);
  }, THREAD_TEST_MS);
});

describe('07-db-actor: durability and recovery', () => {
  it('acknowledges a write only once it is committed: the row survives killing the actor right after the ack', async () => {
    actor = new DbActor(file);
    await within(actor.request('count'), 30_000, 'the first request (worker start-up)');
    // Another connection holds the write lock: no write can commit until it lets go.
    const holder = new Database(file, { timeout: 5000 });
    holder.exec('BEGIN IMMEDIATE');
    let acked = false;
    const ack = actor.request('send', { room: 'safe', from: 'a', text: 'durable' }).then((r) => ((acked = true), r));
    await new Promise((r) => setTimeout(r, 400));
    const ackedWhileLocked = acked;
    holder.exec('COMMIT');
    holder.close();
    expect(ackedWhileLocked, 'the write was acknowledged while another connection held the lock, so it cannot have been committed yet: acknowledge after COMMIT (hint 3)').toBe(false);
    await within(ack, 10_000, 'the write after the lock was released');
    await actor.worker.terminate(); // kill the actor the moment it says "done"
    const check = new Database(file, { readonly: true });
    const rows = check.prepare("SELECT text FROM messages WHERE room = 'safe'").all();
    check.close();
    expect(rows, 'an acknowledged write must be in the file after the actor dies').toEqual([{ text: 'durable' }]);
  }, THREAD_TEST_MS);

  it('fails in-flight requests when the actor dies, then restarts it', async () => {
    actor = new DbActor(file);
    await within(actor.request('send', { room: 'r', from: 'a', text: 'before' }), 30_000, 'the first write');
    const inFlight = actor.request('slow', { ms: 2000 });
    const outcome = inFlight.then(() => 'resolved', (err: Error) => `rejected: ${err.message}`);
    await new Promise((r) => setTimeout(r, 100));
    await actor.worker.terminate();
    expect(await within(outcome, 3_000, 'the request in flight when the actor died'), 'a request in flight when the actor dies must fail, not hang (hint 3)').toMatch(/^rejected/);
    const history = (await within(actor.request('history', { room: 'r' }), 30_000, 'the first request after the restart')) as Array<{ text: string }>;
    expect(history.map((r) => r.text), 'a restarted actor serves the same database').toEqual(['before']);
  }, THREAD_TEST_MS);
});
