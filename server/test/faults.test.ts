// The database failing under the server: SQLITE_FULL becomes storage_full (and nothing is
// acknowledged that is not on disk); a dead actor thread becomes unavailable until it restarts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { startHarness, type Harness } from '../testing/harness.ts';
import { eventually, loggedIn, tempDir } from '../testing/helpers.ts';
import { Req, Srv } from '../protocol/codes.ts';

describe('storage_full', () => {
  let h: Harness;
  beforeAll(async () => {
    // A database capped at 40 pages of 4 KiB: a few dozen 4,000-character messages fill it.
    h = await startHarness({ dbFile: path.join(tempDir(), 'wizz.db'), pragmas: ['max_page_count = 40'] });
  });
  afterAll(() => h?.stop());

  it('answers storage_full when SQLite is full, keeps the connection, acknowledges nothing unstored', async () => {
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
    await Promise.all([a.client.close(), b.client.close()]);
  });
});

describe('unavailable', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ dbFile: path.join(tempDir(), 'wizz.db'), restartDelayMs: 300 });
  });
  afterAll(() => h?.stop());

  it('answers unavailable while the database actor is down, and recovers when it restarts', async () => {
    const port = h.ports[0]!;
    const a = await loggedIn(port);
    const b = await loggedIn(port);
    await h.actor.crash();
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
});
