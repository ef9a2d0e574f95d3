// SEND with a client-chosen `key`: a retry (after `unavailable`, a lost reply, a reconnect) returns
// the first send's msgId and stores nothing new. Keys belong to the sender. A key means one request:
// used again with another `to` or `text` it is refused as key_reused, and nothing reaches any
// client that the store does not hold.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import type { Worker, WorkerOptions } from 'node:worker_threads';
import { startHarness, type Harness } from '../testing/harness.ts';
import { eventually, loggedIn, PASSWORD, registered, tempDir } from '../testing/helpers.ts';
import { Req, Srv } from '../protocol/codes.ts';
import { WizzClient } from '../client/wizz-client.ts';
import { spawnTsWorker } from '../util/ts-worker.ts';

let h: Harness;
let port: number;
let actorThread: Worker | null = null;
beforeAll(async () => {
  h = await startHarness({
    dbFile: path.join(tempDir(), 'wizz.db'),
    reactors: 2,
    restartDelayMs: 200,
    actor: { spawn: (entry: URL, options: WorkerOptions) => (actorThread = spawnTsWorker(entry, options)) },
  });
  port = h.ports[0]!;
});
afterAll(() => h?.stop());

/**
 * Every MESSAGE `client` was pushed until `marker` (sent last by the same sender, so it comes
 * after everything before it), the marker left out.
 */
async function messagesUntil(client: WizzClient, marker: string): Promise<Array<Record<string, unknown>>> {
  await client.nextPush((f) => f.type === Srv.MESSAGE && f.body.text === marker);
  return client.drainPushed().filter((f) => f.type === Srv.MESSAGE).map((f) => f.body);
}

/** Each message must be in HISTORY exactly as delivered (msgId, from, to, text, ts). */
async function expectAllStored(asker: WizzClient, other: string, messages: Array<Record<string, unknown>>): Promise<void> {
  const history = (await asker.call(Req.HISTORY, { with: other })).messages as Array<Record<string, unknown>>;
  for (const m of messages) {
    const { msgId, from, to, text, ts } = m;
    expect(history).toContainEqual({ msgId, from, to, text, ts });
  }
}

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

  it('the same key with another text or another recipient is key_reused: nothing stored, nothing delivered, the connection stays', async () => {
    const a = await loggedIn(port);
    const b = await loggedIn(h.ports[1]!); // on the other reactor
    const watcher = await loggedIn(port); // a third user, online, who must not get the first send's msgId
    const first = await a.client.call(Req.SEND, { to: b.user, text: 'the original', key: 'k-r' });
    const disguised = await a.client.request(Req.SEND, { to: b.user, text: 'a disguise', key: 'k-r' });
    expect(disguised.type).toBe(Srv.ERROR);
    expect(disguised.body.code).toBe('key_reused');
    const redirected = await a.client.request(Req.SEND, { to: watcher.user, text: 'the original', key: 'k-r' });
    expect(redirected.body.code).toBe('key_reused');
    // The same request again: the first msgId and ts (b may see the stored message again).
    expect(await a.client.call(Req.SEND, { to: b.user, text: 'the original', key: 'k-r' })).toMatchObject({ msgId: first.msgId, ts: first.ts });
    // The connection stayed open and keeps working.
    await a.client.call(Req.PING, {});
    await a.client.call(Req.SEND, { to: b.user, text: 'marker' });
    await a.client.call(Req.SEND, { to: watcher.user, text: 'marker' });

    const toB = await messagesUntil(b.client, 'marker');
    expect(toB.length).toBeGreaterThanOrEqual(1);
    for (const m of toB) expect(m).toMatchObject({ msgId: first.msgId, from: a.user, to: b.user, text: 'the original', ts: first.ts });
    await expectAllStored(b.client, a.user, toB);
    expect(await messagesUntil(watcher.client, 'marker')).toEqual([]);
    const history = (await a.client.call(Req.HISTORY, { with: b.user })).messages as Array<{ text: string }>;
    expect(history.map((m) => m.text)).toEqual(['marker', 'the original']);
    expect((await a.client.call(Req.HISTORY, { with: watcher.user })).messages).toMatchObject([{ text: 'marker' }]);
    await Promise.all([a.client.close(), b.client.close(), watcher.client.close()]);
  });

  it('after unavailable and a reconnect, the same key with another text is still key_reused; the same text gets the first msgId', async () => {
    const a = await loggedIn(port);
    const b = await loggedIn(h.ports[1]!);
    const first = await a.client.call(Req.SEND, { to: b.user, text: 'sent before the crash', key: 'k-u' });
    await actorThread!.terminate();
    const failed = await a.client.request(Req.SEND, { to: b.user, text: 'changed while down', key: 'k-u' });
    expect(failed.body.code).toBe('unavailable');
    await a.client.close();
    // Reconnect (LOGIN needs the database too) and retry the changed request until the actor is back.
    const retrier = await WizzClient.connect(port);
    await eventually(async () => (await retrier.request(Req.LOGIN, { user: a.user, password: PASSWORD })).type === Srv.OK, 10_000);
    let answer: Record<string, unknown> | null = null;
    await eventually(async () => {
      const r = await retrier.request(Req.SEND, { to: b.user, text: 'changed while down', key: 'k-u' });
      if (r.body.code !== 'unavailable') answer = r.body;
      return answer !== null;
    }, 10_000);
    expect(answer!.code).toBe('key_reused');
    expect(await retrier.call(Req.SEND, { to: b.user, text: 'sent before the crash', key: 'k-u' })).toMatchObject({ msgId: first.msgId, ts: first.ts });
    await retrier.call(Req.SEND, { to: b.user, text: 'marker' });
    const toB = await messagesUntil(b.client, 'marker');
    for (const m of toB) expect(m).toMatchObject({ msgId: first.msgId, text: 'sent before the crash' });
    await expectAllStored(b.client, a.user, toB);
    const history = (await b.client.call(Req.HISTORY, { with: a.user })).messages as Array<{ text: string }>;
    expect(history.map((m) => m.text)).toEqual(['marker', 'sent before the crash']);
    await Promise.all([retrier.close(), b.client.close()]);
  });

  it('a key must be a string of 1–64 characters', async () => {
    const a = await loggedIn(port);
    for (const key of ['', 'x'.repeat(65), 7, null]) {
      expect((await a.client.request(Req.SEND, { to: a.user, text: 't', key })).body.code).toBe('bad_request');
    }
    await a.client.close();
  });

  it('a key or text with a lone surrogate is bad_request, so two keys (or texts) never meet as one in UTF-8', async () => {
    // PostgreSQL turned "\ud800" and "\udc00" alike into U+FFFD: "another text" was not key_reused.
    const a = await loggedIn(port);
    const b = await loggedIn(port);
    for (const body of [
      { text: 'retry me', key: 'k\ud800' },
      { text: 'retry me \ud800', key: 'k-lone' },
      { text: 'retry me \udc00', key: 'k-lone' },
    ]) {
      const reply = await a.client.request(Req.SEND, { to: b.user, ...body });
      expect(reply.body.code).toBe('bad_request');
      expect(reply.body.message).toMatch(body.key === 'k-lone' ? /"text".*well-formed/ : /"key".*well-formed/);
    }
    // Nothing was stored under either key: both are free for a well-formed message.
    const first = await a.client.call(Req.SEND, { to: b.user, text: 'retry me \ufffd', key: 'k-lone' });
    expect((await a.client.request(Req.SEND, { to: b.user, text: 'retry me \ufffd\ufffd', key: 'k-lone' })).body.code).toBe('key_reused');
    expect((await a.client.call(Req.SEND, { to: b.user, text: 'retry me \ufffd', key: 'k-lone' })).msgId).toBe(first.msgId);
    const history = (await a.client.call(Req.HISTORY, { with: b.user })).messages as Array<{ text: string }>;
    expect(history.map((m) => m.text)).toEqual(['retry me \ufffd']);
    await Promise.all([a.client.close(), b.client.close()]);
  });
});
