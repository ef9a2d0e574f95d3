// The database failing under the server: SQLITE_FULL becomes storage_full (nothing is acknowledged
// that is not on disk, and service resumes once there is room); a dead actor thread — also one
// killed in the middle of a batch — becomes unavailable for what was in flight, never a hang, and
// nothing acknowledged is lost; a flood of requests meets a bounded queue instead of killing the
// actor; another process holding the write lock (SQLITE_BUSY) costs writes `unavailable` for a
// moment, not the thread; what kills the thread is logged by its real name.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { Worker, WorkerOptions } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { startHarness, type Harness } from '../testing/harness.ts';
import { eventually, loggedIn, registered, tempDir } from '../testing/helpers.ts';
import { Req, Srv } from '../protocol/codes.ts';
import { DbActor } from '../db/actor-client.ts';
import { spawnTsWorker } from '../util/ts-worker.ts';

const unlimited = { requests: { burst: 0, refillPerS: 0 } };

/** Starts the actor thread as production does, keeping the Worker so a test can kill it. */
function killable(): { spawn: (entry: URL, options: WorkerOptions) => Worker; kill(): Promise<number> } {
  let current: Worker | null = null;
  return {
    spawn: (entry, options) => (current = spawnTsWorker(entry, options)),
    kill: () => current!.terminate(),
  };
}

describe('storage_full', () => {
  let h: Harness;
  let file: string;
  beforeAll(async () => {
    file = path.join(tempDir(), 'wizz.db');
    // A database capped at 40 pages of 4 KiB: a few dozen 4,000-character messages fill it.
    h = await startHarness({ dbFile: file, pragmas: ['max_page_count = 40'], policy: unlimited });
  });
  afterAll(() => h?.stop());

  it('answers storage_full, keeps the connection, acknowledges nothing unstored, and resumes when space is freed', async () => {
    const port = h.ports[0]!;
    const a = await loggedIn(port);
    const b = await loggedIn(port);
    const acked: number[] = [];
    let full = null;
    for (let i = 0; i < 200 && !full; i++) {
      const reply = await a.client.request(Req.SEND, { to: b.user, text: `${i}:${'x'.repeat(3990)}` });
      if (reply.type === Srv.OK) acked.push(reply.body.msgId as number);
      else full = reply.body;
    }
    expect(full).toMatchObject({ code: 'storage_full' });
    expect((await a.client.request(Req.PING, {})).type).toBe(Srv.OK);
    // Every stored message was acknowledged and the newest stored is the last acknowledged.
    const history = (await a.client.call(Req.HISTORY, { with: b.user, limit: 100 })).messages as Array<{ msgId: number }>;
    expect(history.length).toBeGreaterThan(0);
    for (const m of history) expect(acked).toContain(m.msgId);
    expect(history[0]!.msgId).toBe(acked.at(-1));
    // An operator frees space (here: deletes old messages from another connection); the running
    // server stores again without a restart.
    const admin = new Database(file);
    admin.pragma('busy_timeout = 5000');
    admin.prepare('DELETE FROM messages WHERE id < ?').run(acked.at(-1)!);
    admin.close();
    const after = await a.client.request(Req.SEND, { to: b.user, text: 'room again' });
    expect(after.type).toBe(Srv.OK);
    await Promise.all([a.client.close(), b.client.close()]);
  });
});

describe('the database actor dies', () => {
  let h: Harness;
  let file: string;
  const thread = killable();
  beforeAll(async () => {
    file = path.join(tempDir(), 'wizz.db');
    h = await startHarness({ dbFile: file, restartDelayMs: 300, policy: unlimited, actor: { spawn: thread.spawn } });
  });
  afterAll(() => h?.stop());

  it('answers unavailable while the actor is down, and recovers when it restarts', async () => {
    const port = h.ports[0]!;
    const a = await loggedIn(port);
    const b = await loggedIn(port);
    await thread.kill();
    const reply = await a.client.request(Req.SEND, { to: b.user, text: 'during the outage' });
    expect(reply.type).toBe(Srv.ERROR);
    expect(reply.body.code).toBe('unavailable');
    // Requests that need no database still work.
    expect((await a.client.request(Req.PING, {})).type).toBe(Srv.OK);
    expect((await a.client.call(Req.WHO, {})).users).toContain(b.user);
    await eventually(async () => (await a.client.request(Req.SEND, { to: b.user, text: 'after' })).type === Srv.OK, 10_000);
    const history = (await b.client.call(Req.HISTORY, { with: a.user })).messages as Array<{ text: string }>;
    expect(history.map((m) => m.text)).not.toContain('during the outage');
    await Promise.all([a.client.close(), b.client.close()]);
  });

  it('killed mid-batch: every request in flight is answered (OK or unavailable), every OK is on disk', async () => {
    const port = h.ports[0]!;
    await eventually(() => h.actor.isUp, 10_000);
    // A connection's requests run one at a time: 30 senders make batches of up to 30 writes.
    const senders = await Promise.all(Array.from({ length: 30 }, () => loggedIn(port)));
    const to = await registered(port);
    const acked: number[] = [];
    const codes: string[] = [];
    let killed: Promise<number> | null = null;
    const sends = senders.flatMap((a) =>
      Array.from({ length: 50 }, (_, i) =>
        a.client.request(Req.SEND, { to, text: `m${i}` }, 20_000).then((r) => {
          if (r.type === Srv.OK) acked.push(r.body.msgId as number);
          else codes.push(r.body.code as string);
          if (acked.length === 100 && !killed) killed = thread.kill(); // batches queued and running
        }),
      ),
    );
    await Promise.all(sends); // rejects (fails the test) if any request hangs past 20 s
    expect(killed).not.toBeNull();
    expect(codes.length).toBeGreaterThan(0);
    expect(new Set(codes)).toEqual(new Set(['unavailable']));
    await Promise.all(senders.map((a) => a.client.close()));
    await h.stop();
    const check = new Database(file, { readonly: true });
    const stored = new Set(check.prepare('SELECT id FROM messages WHERE recipient = ?').pluck().all(to) as number[]);
    check.close();
    for (const id of acked) expect(stored.has(id)).toBe(true);
  });
});

describe('another process holds the write lock (SQLITE_BUSY)', () => {
  let h: Harness;
  let file: string;
  const logged: string[] = [];
  beforeAll(async () => {
    file = path.join(tempDir(), 'wizz.db');
    h = await startHarness({ dbFile: file, policy: unlimited, actor: { log: (line) => logged.push(line) } });
  });
  afterAll(() => h?.stop());

  it('writes get unavailable within a bounded time and store nothing, reads are served, the thread stays up; released, writes work again', async () => {
    const port = h.ports[0]!;
    const a = await loggedIn(port);
    const b = await loggedIn(port);
    await a.client.call(Req.SEND, { to: b.user, text: 'before the lock' });
    // An operator's shell (or any script) opens the same file and starts a write without ending it.
    const outside = new Database(file);
    outside.exec('BEGIN IMMEDIATE');
    try {
      const started = Date.now();
      const sends = Array.from({ length: 20 }, (_, i) => a.client.request(Req.SEND, { to: b.user, text: `while locked ${i}`, key: `locked-${i}` }));
      const history = a.client.request(Req.HISTORY, { with: b.user });
      const who = a.client.request(Req.WHO, {});
      const refused = await Promise.all(sends);
      expect(refused.map((r) => r.body.code)).toEqual(Array(20).fill('unavailable'));
      expect(refused[0]!.body.message).toMatch(/locked by another process/);
      // Reads need no write lock (WAL): served while the lock is held, as are requests without the database.
      expect(((await history).body.messages as Array<{ text: string }>).map((m) => m.text)).toEqual(['before the lock']);
      expect((await who).type).toBe(Srv.OK);
      expect(Date.now() - started).toBeLessThan(3_000); // a few short busy waits, not SQLite's 5 s each
      const one = Date.now();
      expect((await a.client.request(Req.SEND, { to: b.user, text: 'still locked' })).body.code).toBe('unavailable');
      expect(Date.now() - one).toBeLessThan(2_000);
      expect(h.actor.isUp).toBe(true);
    } finally {
      outside.exec('ROLLBACK');
      outside.close();
    }
    // Released: the retries with their keys are stored, once each, and delivered.
    const retried = await a.client.call(Req.SEND, { to: b.user, text: 'while locked 0', key: 'locked-0' });
    expect((await b.client.nextPush((f) => f.type === Srv.MESSAGE && f.body.msgId === retried.msgId)).body.text).toBe('while locked 0');
    const texts = ((await a.client.call(Req.HISTORY, { with: b.user })).messages as Array<{ text: string }>).map((m) => m.text);
    expect(texts).toEqual(['while locked 0', 'before the lock']);
    expect(h.actor.restarts).toBe(0);
    expect(logged.some((l) => /locked by another process \(SQLITE_BUSY\)/.test(l))).toBe(true);
    expect(logged.some((l) => /writable again/.test(l))).toBe(true);
    expect(logged.join('\n')).not.toMatch(/undefined|actor stopped|actor error/);
    await Promise.all([a.client.close(), b.client.close()]);
  });

  it('a thread that dies is logged with the real error, not "undefined"', async () => {
    const logged: string[] = [];
    const broken = new DbActor({ file: tempDir(), log: (line) => logged.push(line) }); // a directory: SQLite cannot open it
    await expect(broken.start()).rejects.toThrow(/could not start/);
    expect(logged.join('\n')).toMatch(/database actor error: SQLITE_CANTOPEN: unable to open database file/);
    expect(logged.join('\n')).not.toMatch(/undefined/);
  });
});

describe('the actor queue is bounded', () => {
  it('beyond maxPending a call fails at once with unavailable; a batch of 60,000 on a small stack does not kill the actor', { timeout: 60_000 }, async () => {
    const file = path.join(tempDir(), 'wizz.db');
    const small = new DbActor({ file, maxPending: 100 });
    await small.start();
    const results = await Promise.allSettled(Array.from({ length: 1_000 }, () => small.send({ op: 'userExists', args: ['nobody'] })));
    const refused = results.filter((r) => r.status === 'rejected');
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(100);
    expect(refused).toHaveLength(900);
    expect((refused[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'unavailable' });
    expect(await small.send({ op: 'userExists', args: ['nobody'] })).toBe(false); // and it serves on
    await small.close();

    // One loop iteration's worth of requests reaches the actor as one batch. A spread
    // push(...batch) threw RangeError past the thread's stack and killed the actor (≈ 150,000
    // requests and up, depending on the stack); on a 0.5 MiB stack that point is below 60,000, so
    // the test stays fast and still fails on such code.
    const big = new DbActor({
      file,
      maxPending: 100_000,
      spawn: (entry, options) => spawnTsWorker(entry, { ...options, resourceLimits: { stackSizeMb: 0.5 } }),
    });
    await big.start();
    const all = await Promise.allSettled(Array.from({ length: 60_000 }, () => big.send({ op: 'userExists', args: ['nobody'] })));
    expect(all.filter((r) => r.status === 'rejected')).toHaveLength(0);
    await big.close();
  });
});
