// SEND with a client-chosen `key`: a retry (after `unavailable`, a lost reply, a reconnect) returns
// the first send's msgId and stores nothing new. Keys belong to the sender.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { Worker, WorkerOptions } from 'node:worker_threads';
import { startHarness, type Harness } from '../testing/harness.ts';
import { eventually, loggedIn, registered, tempDir } from '../testing/helpers.ts';
import { Req, Srv } from '../protocol/codes.ts';
import { spawnTsWorker } from '../util/ts-worker.ts';

let h: Harness;
let port: number;
let actorThread: Worker | null = null;
beforeAll(async () => {
  h = await startHarness({
    dbFile: path.join(tempDir(), 'wizz.db'),
    restartDelayMs: 200,
    actor: { spawn: (entry: URL, options: WorkerOptions) => (actorThread = spawnTsWorker(entry, options)) },
  });
  port = h.ports[0]!;
});
afterAll(() => h?.stop());

describe('idempotent SEND', () => {
  it('the same key twice: one stored message, the same msgId and ts, delivered', async () => {
    const a = await loggedIn(port);
    const b = await loggedIn(port);
    const first = await a.client.call(Req.SEND, { to: b.user, text: 'once', key: 'k-1' });
    const retry = await a.client.call(Req.SEND, { to: b.user, text: 'once', key: 'k-1' });
    expect(retry).toMatchObject({ msgId: first.msgId, ts: first.ts });
    const other = await a.client.call(Req.SEND, { to: b.user, text: 'twice', key: 'k-2' });
    expect(other.msgId).not.toBe(first.msgId);
    const history = (await a.client.call(Req.HISTORY, { with: b.user })).messages as Array<{ text: string }>;
    expect(history.map((m) => m.text)).toEqual(['twice', 'once']);
    // Another sender's same key is another message.
    const c = await loggedIn(port);
    expect((await c.client.call(Req.SEND, { to: b.user, text: 'mine', key: 'k-1' })).msgId).not.toBe(first.msgId);
    await Promise.all([a.client.close(), b.client.close(), c.client.close()]);
  });

  it('a retry after unavailable stores the message once', async () => {
    const a = await loggedIn(port);
    const to = await registered(port);
    await actorThread!.terminate();
    const failed = await a.client.request(Req.SEND, { to, text: 'retry me', key: 'r-1' });
    expect(failed.body.code).toBe('unavailable');
    let ok: Record<string, unknown> | null = null;
    await eventually(async () => {
      const r = await a.client.request(Req.SEND, { to, text: 'retry me', key: 'r-1' });
      if (r.type === Srv.OK) ok = r.body;
      return ok !== null;
    }, 10_000);
    const again = await a.client.call(Req.SEND, { to, text: 'retry me', key: 'r-1' });
    expect(again.msgId).toBe(ok!.msgId);
    const history = (await a.client.call(Req.HISTORY, { with: to })).messages as Array<{ text: string }>;
    expect(history.filter((m) => m.text === 'retry me')).toHaveLength(1);
    await a.client.close();
  });

  it('a key must be a string of 1–64 characters', async () => {
    const a = await loggedIn(port);
    for (const key of ['', 'x'.repeat(65), 7, null]) {
      expect((await a.client.request(Req.SEND, { to: a.user, text: 't', key })).body.code).toBe('bad_request');
    }
    await a.client.close();
  });
});
