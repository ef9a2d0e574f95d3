// Stage 07 graders: the database actor. Correctness of answers and errors first, then what the
// actor is for (the event loop stays free while SQLite works), then durability and recovery.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { DbActor } from '#stage/07-db-actor/actor.ts';
import { SyncChatDb } from '#stage/07-db-actor/sync-db.ts';
import { StallError, watchProgress } from '#kit/stall.ts';

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

// ---------------------------------------------------------------------------------------------
// Watching the actor from outside, so that a hang explains itself: which request ids were posted
// to the worker, which the worker answered, which still wait in the actor's pending map, and
// whether the worker is alive.

interface Tracker {
  posted: number[];
  answered: number[];
  /** Messages from the worker that answer nothing: no numeric id, an id never posted, or a second reply. */
  strays: unknown[];
  /** Exit codes of the workers that died, in order. */
  exits: number[];
  alive: () => boolean;
  /** Share of the time since the last call that the worker's event loop spent running code. */
  busy: () => number;
  /** ms from the first request until the worker's first answer; null before it answered. */
  firstAnswerMs: number | null;
}

const trackers = new WeakMap<DbActor, Tracker>();

/** Instruments the actor's current worker (and any replacement, as requests go out). */
function track(a: DbActor): Tracker {
  const known = trackers.get(a);
  if (known) return known;
  const t: Tracker = { posted: [], answered: [], strays: [], exits: [], alive: () => false, busy: () => 0, firstAnswerMs: null };
  let hooked: Worker | null = null;
  let started = 0;
  const hook = () => {
    const w = a.worker;
    if (!w || w === hooked) return;
    hooked = w;
    let exited = false;
    t.alive = () => !exited;
    t.firstAnswerMs = null; // a new worker starts from scratch
    started = 0;
    let elu = w.performance.eventLoopUtilization();
    t.busy = () => {
      const now = w.performance.eventLoopUtilization();
      const share = w.performance.eventLoopUtilization(now, elu).utilization;
      elu = now;
      return share;
    };
    const post = w.postMessage.bind(w);
    w.postMessage = (message: unknown, transfer?: never) => {
      const id = (message as { id?: unknown } | null)?.id;
      if (typeof id === 'number') t.posted.push(id);
      started ||= performance.now();
      return post(message, transfer);
    };
    w.on('message', (reply: unknown) => {
      const id = (reply as { id?: unknown } | null)?.id;
      if (typeof id !== 'number' || !t.posted.includes(id) || t.answered.includes(id)) t.strays.push(reply);
      if (typeof id === 'number') t.answered.push(id);
      t.firstAnswerMs ??= performance.now() - started;
    });
    w.once('exit', (code: number) => {
      exited = true;
      t.exits.push(code);
    });
  };
  hook();
  const request = a.request.bind(a);
  a.request = (...args: Parameters<DbActor['request']>) => {
    hook(); // a restarted actor has a new worker
    return request(...args);
  };
  trackers.set(a, t);
  return t;
}

/** The actor's pending map, if it kept the given field (null when it cannot be seen). */
function pendingIds(a: DbActor): number[] | null {
  const pending = (a as unknown as { pending?: unknown }).pending;
  return pending instanceof Map ? [...pending.keys()].map(Number) : null;
}

const ids = (list: number[]) => (list.length > 12 ? `${list.slice(0, 12).join(', ')}, … (${list.length})` : list.join(', ') || 'none');

/** What a stalled wait shows: who holds which request, and who is to blame. */
function describeActor(a: DbActor): string {
  const t = track(a);
  const pending = pendingIds(a);
  const answered = new Set(t.answered);
  const unanswered = t.posted.filter((id) => !answered.has(id));
  const alive = t.alive();
  const lines = [
    `posted to the worker: ${t.posted.length} request(s); the worker answered ${t.answered.length}${unanswered.length ? `, not ids ${ids(unanswered)}` : ''}; the actor's pending map holds ids: ${pending === null ? '(no `pending` Map to look at)' : ids(pending)}`,
    `worker: ${alive ? 'alive' : `exited (code ${t.exits.at(-1)})`}, ${t.firstAnswerMs === null ? 'has answered nothing yet' : `first answer ${t.firstAnswerMs.toFixed(0)} ms after the first request`}; restarts: ${a.restarts}`,
  ];
  if (!alive && (pending?.length ?? 1) > 0) lines.push('The worker is gone and its requests still wait: when the worker exits, reject every pending request (onExit), or they wait forever (hint 3).');
  else if (alive && t.answered.length === 0 && t.posted.length > 0) lines.push('The worker is alive but has answered nothing: db-worker.ts must post a reply {id, ok, …} for every request it gets.');
  else if (alive && unanswered.length > 0) lines.push('The worker answers some requests but not these: reads are answered at once — are the writes waiting for a flush that never runs or never posts (setImmediate scheduled? each reply posted after the commit)?');
  else if (pending && pending.length > 0) lines.push('The worker answered every request, yet these are still pending: settle() must find each reply by its id, resolve or reject it, and forget it.');
  else lines.push('Every request was answered and nothing is pending, yet the promise never settled: request() must return the promise that settle() resolves.');
  return lines.join('\n');
}

// How long a TypeScript worker that opens SQLite takes to start on this machine right now
// (measured once, without any of the stage's code): a worker of the stage's that has not answered
// in several times that is not starting, it is stuck.
let startupMs = 5_000;
beforeAll(async () => {
  const probe = `
    import { workerData, parentPort } from 'node:worker_threads';
    import { createRequire } from 'node:module';
    const { register } = await import(createRequire(workerData.base).resolve('tsx/esm/api'));
    register();
    const Database = createRequire(workerData.base)('better-sqlite3');
    new Database(':memory:').close();
    parentPort.postMessage('ready');`;
  const started = performance.now();
  const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(probe)}`), { workerData: { base: import.meta.url } });
  await new Promise((resolve) => {
    worker.once('message', resolve);
    worker.once('error', resolve);
    setTimeout(resolve, 20_000);
  });
  startupMs = Math.max(1_000, performance.now() - started);
  await worker.terminate();
}, 30_000);

/**
 * Waits for `p`, something the actor must settle. A hang is reported with the actor's state:
 * within a second once the worker, having answered before, sits idle with requests pending (or
 * has died); within a few start-up times when it has never answered.
 */
function settled<T>(a: DbActor, p: Promise<T>, what: string): Promise<T> {
  const t = track(a);
  const watched = watchProgress(p, {
    what,
    progress: () => t.answered.length + t.exits.length,
    stallMs: Math.max(10_000, 5 * startupMs),
    // Stuck, not slow: requests wait while the worker — up and answering before — sits idle (its
    // event loop runs nothing: a slow query or a lock wait keeps it busy), or the worker is dead.
    stuck: () => !t.alive() || (t.firstAnswerMs !== null && (pendingIds(a)?.length ?? 1) > 0 && t.busy() < 0.2),
    stuckMs: 800,
    state: () => describeActor(a),
  });
  watched.catch((err: Error) => {
    if (err instanceof StallError) hungIn ??= what;
  });
  return watched;
}

// After one hang, every later test would only hang the same way, a few seconds each: they are
// skipped (and say why), so the report comes back in seconds with the first hang's explanation.
let hungIn: string | null = null;
beforeEach((ctx) => {
  if (hungIn) ctx.skip(`skipped: the actor already hung in an earlier test (${hungIn}) — fix that first`);
});

/** One request, watched: its answer, or a report of the hang. */
function ask(a: DbActor, op: Parameters<DbActor['request']>[0], args: unknown = {}): Promise<unknown> {
  return settled(a, a.request(op, args), `the '${op}' request`);
}

/** A request that must fail: its error, or a plain failure if it resolved (or a hang report). */
function failure(a: DbActor, p: Promise<unknown>, what: string): Promise<Error> {
  return settled(a, p.then((value) => Promise.reject(new Error(`${what} resolved with ${JSON.stringify(value)}; it must reject`)), (err: Error) => err), what);
}

function newActor(f = file): DbActor {
  actor = new DbActor(f);
  track(actor);
  return actor;
}

// Every test starts a worker thread, which loads TypeScript: slow on a busy machine, hence 60 s.
// The tests themselves report a hang within seconds (see `settled`).
const THREAD_TEST_MS = 60_000;

describe('07-db-actor: answers and errors', () => {
  it('answers each request with its own result when many are in flight at once', async () => {
    actor = newActor();
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
    const got = await settled(actor!, Promise.all(requests), '60 concurrent requests (including worker start-up)');
    for (let i = 0; i < got.length; i++) {
      expect(got[i], `request #${i} got someone else's answer (match replies by id, hint 2)`).toEqual(expected[i]);
    }
    const history = (await ask(actor, 'history', { room: 'lobby', limit: 100 })) as Array<{ from: string; text: string }>;
    expect(history.map((r) => r.text), 'the 15 good writes, in order').toEqual(Array.from({ length: 15 }, (_, k) => `hello ${k * 4}`));
    expect(pendingIds(actor), 'every request was answered, so none may be left in the pending map (a leak: settle must forget what it settles)').toEqual([]);
  }, THREAD_TEST_MS);

  it('sends errors back as rejected promises that keep their class, message and SQLite code', async () => {
    actor = newActor();
    await ask(actor, 'count');
    const notNull = await failure(actor, actor.request('send', { room: 'r', from: 'a', text: null }), 'a NOT NULL violation');
    expect(notNull, 'a rejection is an Error').toBeInstanceOf(Error);
    expect(notNull.message, 'the database\'s own message').toMatch(/NOT NULL/i);
    expect(notNull.name, 'the error class travels back: better-sqlite3 throws a SqliteError, so the caller must see name "SqliteError" (rebuild it from reply.error)').toBe('SqliteError');
    expect((notNull as { code?: unknown }).code, 'the SQLite code travels back too: callers branch on it (SQLITE_CONSTRAINT_NOTNULL, SQLITE_BUSY…)').toBe('SQLITE_CONSTRAINT_NOTNULL');
    const unknown = await failure(actor, actor.request('nope' as never, {}), 'an unknown op');
    expect(unknown.message, 'an unknown op').toMatch(/unknown op/);
    expect(unknown.name, 'a plain Error stays a plain Error').toBe('Error');
    expect((unknown as { code?: unknown }).code, 'an error without a code must not grow one').toBeUndefined();
    expect(await ask(actor, 'count'), 'the actor keeps serving after errors').toBe(0);
    expect(pendingIds(actor), 'failed requests must leave the pending map too').toEqual([]);
  }, THREAD_TEST_MS);

  it('answers any mix of requests like a model of the chat database, leaving nothing pending (fast-check)', async () => {
    actor = newActor();
    await ask(actor, 'count');
    // One tick's worth of requests: writes (good or failing) to one room, reads of rooms nobody
    // writes in this tick (their answer cannot depend on the order inside the tick), unknown ops.
    type Step = { op: 'send'; text: string | null } | { op: 'history'; room: number } | { op: 'slow'; ms: number } | { op: 'bogus' };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({ op: fc.constant('send' as const), text: fc.option(fc.string({ maxLength: 12 }), { nil: null, freq: 4 }) }),
      fc.record({ op: fc.constant('history' as const), room: fc.integer({ min: 0, max: 2 }) }),
      fc.record({ op: fc.constant('slow' as const), ms: fc.integer({ min: 0, max: 3 }) }),
      fc.constant({ op: 'bogus' as const }),
    );
    const model = new Map<string, string[]>();
    let rows = 0;
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(step, { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 3 }), async (ticks) => {
        const room = `run${run++}`;
        const others = [1, 2, 3].map((k) => `run${run - 1 - k}`); // earlier runs' rooms, or none yet
        for (const [t, tick] of ticks.entries()) {
          const answers = tick.map((s) => {
            const p = s.op === 'send' ? actor!.request('send', { room, from: 'p', text: s.text })
              : s.op === 'history' ? actor!.request('history', { room: others[s.room % others.length]!, limit: 1000 })
              : s.op === 'slow' ? actor!.request('slow', { ms: s.ms })
              : actor!.request('bogus' as never, {});
            return p.then((value) => ({ ok: true, value }), (err: Error) => ({ ok: false, value: `${err.name}: ${err.message.split(':')[0]}` }));
          });
          const got = await settled(actor!, Promise.all(answers), `tick ${t} of a generated run (${tick.length} requests)`);
          const expected = tick.map((s) => {
            if (s.op === 'send') {
              if (s.text === null) return { ok: false, value: 'SqliteError: NOT NULL constraint failed' };
              model.set(room, [...(model.get(room) ?? []), s.text]);
              return { ok: true, value: { id: ++rows } };
            }
            if (s.op === 'history') {
              const r = others[s.room % others.length]!;
              return { ok: true, value: (model.get(r) ?? []).map((text) => ({ room: r, from: 'p', text })) };
            }
            if (s.op === 'slow') return { ok: true, value: s.ms };
            return { ok: false, value: "Error: unknown op 'bogus'" };
          });
          const shown = (xs: unknown[]) => xs.map((x) => JSON.stringify(x)).join('\n  ');
          expect(got.map((g) => (g.ok && (g.value as Array<{ id?: number }>)?.map ? { ...g, value: (g.value as Array<Record<string, unknown>>).map(({ id: _, ...rest }) => rest) } : g)),
            `tick ${t}: requests [${tick.map((s) => s.op + (s.op === 'send' && s.text === null ? '(null)' : '')).join(', ')}] — answers must match requests by id, errors keep their class:\n  ${shown(got)}`).toEqual(expected);
          expect(pendingIds(actor!), `tick ${t}: every request settled, yet the pending map still holds ids — a leak`).toEqual([]);
          expect(track(actor!).strays, `tick ${t}: every request gets exactly one reply carrying its id; the worker also sent these`).toEqual([]);
        }
        expect(await ask(actor!, 'history', { room, limit: 1000 }).then((r) => (r as Array<{ text: string }>).map((x) => x.text)), `room ${room}: every acknowledged write, in order`).toEqual(model.get(room) ?? []);
      }),
      { numRuns: 15, seed: 7, endOnFailure: true },
    );
  }, THREAD_TEST_MS);

  it('commits a burst of writes from one tick in a few transactions, not one each', async () => {
    actor = newActor();
    const before = ((await ask(actor, 'stats')) as { commits: number }).commits;
    const writes = Array.from({ length: 200 }, (_, i) => actor!.request('send', { room: 'burst', from: 'x', text: String(i) }));
    await settled(actor!, Promise.all(writes), '200 writes sent in one tick');
    const after = ((await ask(actor, 'stats')) as { commits: number }).commits;
    expect(after - before, `200 writes sent in one tick took ${after - before} commits; batch them into one store.transaction per tick (hint 2)`).toBeLessThanOrEqual(10);
    expect(await ask(actor, 'count')).toBe(200);
    // Reads are answered at once, outside any write batch: they cost no transaction.
    for (let i = 0; i < 5; i++) await ask(actor, 'history', { room: 'burst', limit: 1 });
    const reads = ((await ask(actor, 'stats')) as { commits: number }).commits - after;
    expect(reads, `5 reads (and a stats) took ${reads} commits: reads must be answered at once, not queued into the write batch`).toBe(0);
  }, THREAD_TEST_MS);
});

// Costs in the states where a wrong solution pays them (issue 20, class 5): a tick that mixes reads
// with writes must still commit its writes together, not once per read between them.
describe('07-db-actor: batching when reads and writes are mixed in one tick', () => {
  it('100 writes interleaved with 100 reads in one tick still take a few commits, and every read is answered', async () => {
    actor = newActor();
    const before = ((await ask(actor, 'stats')) as { commits: number }).commits;
    const all: Promise<unknown>[] = [];
    for (let i = 0; i < 100; i++) {
      all.push(actor.request('send', { room: 'mixed', from: 'x', text: String(i) }));
      all.push(actor.request(i % 2 ? 'count' : 'history', i % 2 ? {} : { room: 'mixed', limit: 1 }));
    }
    await settled(actor, Promise.all(all), '100 writes and 100 reads sent in one tick');
    const commits = ((await ask(actor, 'stats')) as { commits: number }).commits - before;
    expect(
      commits,
      `100 writes sent in one tick, each followed by a read, took ${commits} commits (a burst of writes alone takes ≤ 10). A read between writes must not cut the batch: ` +
        'answer reads at once, and commit the tick\'s writes together once the tick is over (README: writes that arrive in the same tick commit together). ' +
        'Where to look: db-worker.ts, what a read does to the writes waiting for the end of the tick. Replay: npm test -- 07',
    ).toBeLessThanOrEqual(10);
    expect(await ask(actor, 'count')).toBe(100);
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
    actor = newActor();
    await settled(actor!, actor.request('count'), 'the first request (worker start-up)');
    // A busy machine (other graders' threads on the same cores) can stall any thread for tens of
    // ms, so the bound is 100 ms, best of three runs. A query on this thread blocks the loop for
    // ~${SLOW_MS} ms or more in every run and can never pass; the actor's runs sit near 0–20 ms.
    const runs: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const { p99, max } = await loopDelayDuring(async () => {
        const results = await settled(actor!, Promise.all([actor!.request('slow', { ms: SLOW_MS }), actor!.request('slow', { ms: SLOW_MS })]), 'two slow queries');
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
    actor = newActor();
    await settled(actor!, actor.request('count'), 'the first request (worker start-up)');
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
    await settled(actor!, ack, 'the write after the lock was released');
    await actor.worker.terminate(); // kill the actor the moment it says "done"
    const check = new Database(file, { readonly: true });
    const rows = check.prepare("SELECT text FROM messages WHERE room = 'safe'").all();
    check.close();
    expect(rows, 'an acknowledged write must be in the file after the actor dies').toEqual([{ text: 'durable' }]);
  }, THREAD_TEST_MS);

  it('never acknowledges a write whose COMMIT failed: every write of that batch fails, with the code', async () => {
    // A deferred foreign key is checked at COMMIT, not at the INSERT: each statement succeeds and
    // the transaction fails as a whole. (The table is made here, before the actor opens the file.)
    const setup = new Database(file);
    setup.exec(`CREATE TABLE rooms (name TEXT PRIMARY KEY); INSERT INTO rooms VALUES ('real');
      CREATE TABLE messages (id INTEGER PRIMARY KEY, room TEXT NOT NULL REFERENCES rooms(name) DEFERRABLE INITIALLY DEFERRED,
        sender TEXT NOT NULL, text TEXT NOT NULL)`);
    setup.close();
    actor = newActor();
    await ask(actor, 'count');
    // The actor is kept busy (a slow read spins in its thread) while the three writes are posted,
    // so they are all waiting when it looks again: one batch, one COMMIT — on any machine load.
    const busy = actor.request('slow', { ms: 300 });
    const batch = [
      actor.request('send', { room: 'real', from: 'a', text: 'fine on its own' }),
      actor.request('send', { room: 'ghost', from: 'a', text: 'breaks the commit' }),
      actor.request('send', { room: 'real', from: 'b', text: 'also fine on its own' }),
    ].map((p) => p.then((r) => ({ acked: r }), (err: Error) => ({ name: err.name, code: (err as { code?: unknown }).code })));
    const outcomes = await settled(actor, Promise.all(batch), 'a batch whose COMMIT fails');
    await settled(actor, busy, 'the slow read that kept the actor busy');
    expect(outcomes, 'a deferred foreign key made this batch\'s COMMIT fail, so nothing in it is durable: every write of the batch must be rejected with the COMMIT\'s error (SqliteError, SQLITE_CONSTRAINT_FOREIGNKEY), none acknowledged (hint 3)').toEqual(
      new Array(3).fill({ name: 'SqliteError', code: 'SQLITE_CONSTRAINT_FOREIGNKEY' }),
    );
    expect(track(actor).strays, 'every write gets exactly one reply: the failed COMMIT\'s, not a success and then a failure').toEqual([]);
    expect(await ask(actor, 'count'), 'nothing of the failed batch is in the database').toBe(0);
    expect(await ask(actor, 'send', { room: 'real', from: 'c', text: 'next batch' }), 'the actor keeps serving after a failed commit').toEqual({ id: 1 });
    expect(pendingIds(actor)).toEqual([]);
  }, THREAD_TEST_MS);

  it('fails in-flight requests when the actor dies, then restarts it', async () => {
    actor = newActor();
    await ask(actor, 'count');
    await settled(actor!, actor.request('send', { room: 'r', from: 'a', text: 'before' }), 'the first write');
    const inFlight = actor.request('slow', { ms: 2000 });
    const outcome = inFlight.then(() => 'resolved', (err: Error) => `rejected: ${err.message}`);
    await new Promise((r) => setTimeout(r, 100));
    await actor.worker.terminate();
    expect(await settled(actor!, outcome, 'the request in flight when the actor died'), 'a request in flight when the actor dies must fail, not hang, with a message saying why (hint 3)').toMatch(/^rejected: \S/);
    const history = (await settled(actor!, actor.request('history', { room: 'r' }), 'the first request after the restart')) as Array<{ text: string }>;
    expect(history.map((r) => r.text), 'a restarted actor serves the same database').toEqual(['before']);
    expect(actor.restarts, 'one death, one restart').toBe(1);
    // A late or stray reply — for a request that was already failed — has nobody to go to.
    expect(() => actor!.worker.emit('message', { id: 1e9, ok: true, result: 'late' }), 'a reply for a request that is no longer pending must be ignored, not crash settle()').not.toThrow();
    // A worker that throws an uncaught exception emits 'error' (then 'exit'): an EventEmitter with no
    // 'error' listener rethrows it and the whole server process dies with its actor.
    expect(
      () => actor!.worker.emit('error', new Error('an uncaught exception inside the worker')),
      "a Worker's 'error' event needs a listener, or an exception thrown inside the worker crashes the server process",
    ).not.toThrow();
    expect(await ask(actor, 'count'), 'and the actor keeps serving').toBe(1);
    expect(pendingIds(actor), 'nothing may stay pending after a death').toEqual([]);
  }, THREAD_TEST_MS);

  it('close() fails what is in flight, refuses new requests and does not restart the worker', async () => {
    actor = newActor();
    await ask(actor, 'count');
    const worker = actor.worker;
    const inFlight = actor.request('slow', { ms: 1000 }).then(() => 'resolved', (err: Error) => `rejected: ${err.message}`);
    await new Promise((r) => setTimeout(r, 50));
    await settled(actor, actor.close(), 'close()');
    expect(await settled(actor, inFlight, 'the request in flight at close()'), 'a request in flight at close() must fail, not hang, with a message saying why').toMatch(/^rejected: \S/);
    const after = await Promise.race([
      actor.request('count').then(() => 'resolved', (err: Error) => `rejected: ${err.message}`),
      new Promise<string>((r) => setTimeout(() => r('still waiting after 1 s'), 1000)),
    ]);
    expect(after, 'a request after close() must be refused, with a message saying why').toMatch(/^rejected: \S/);
    expect(actor.restarts, 'close() is not a crash: the actor must not start a new worker').toBe(0);
    expect(actor.worker, 'close() is not a crash: no new worker').toBe(worker);
    expect(pendingIds(actor), 'nothing may stay pending after close()').toEqual([]);
  }, THREAD_TEST_MS);

  // A closed actor stays closed for every later call, the trivial ones included (issue 20, class 6).
  it('after close(), every kind of request — writes, reads, the trivial ones — is refused at once', async () => {
    actor = newActor();
    await ask(actor, 'count');
    await settled(actor, actor.close(), 'close()');
    const requests: Array<[Parameters<DbActor['request']>[0], unknown]> = [
      ['send', { room: 'r', from: 'a', text: 'late' }],
      ['history', { room: 'r' }],
      ['count', undefined],
      ['stats', undefined],
      ['slow', { ms: 0 }],
    ];
    for (const [op, args] of requests) {
      const outcome = await Promise.race([
        actor.request(op, args).then(() => 'resolved', (err: Error) => `rejected: ${err.message}`),
        new Promise<string>((r) => setTimeout(() => r('still waiting after 500 ms'), 500)),
      ]);
      expect(
        outcome,
        `request('${op}'${args === undefined ? '' : `, ${JSON.stringify(args)}`}) after close(): ${outcome}. A closed actor refuses every request at once, with a message — ` +
          'not only the writes: a read posted to a terminated worker is never answered. Where to look: the first line of request(). Replay: npm test -- 07',
      ).toMatch(/^rejected: \S/);
    }
    expect(pendingIds(actor), 'nothing may stay pending after close()').toEqual([]);
  }, THREAD_TEST_MS);
});
