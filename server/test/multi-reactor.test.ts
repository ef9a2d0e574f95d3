// Delivery across reactors: two reactors in one process on two ports, so each client's reactor is
// known. The real cluster server with --reactors 2 is exercised in process.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { startHarness, type Harness } from '../testing/harness.ts';
import { loggedIn, tempDir } from '../testing/helpers.ts';
import { Req, Srv } from '../protocol/codes.ts';

describe('two reactors in one process', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ dbFile: path.join(tempDir(), 'wizz.db'), reactors: 2 });
  });
  afterAll(() => h?.stop());

  it('routes DMs, wizz, rooms, presence and WHO between reactors', async () => {
    const [p1, p2] = h.ports as [number, number];
    const a = await loggedIn(p1);
    const b = await loggedIn(p2);
    const c = await loggedIn(p2);
    const sent = await a.client.call(Req.SEND, { to: b.user, text: 'across' });
    expect((await b.client.nextPush((f) => f.type === Srv.MESSAGE)).body).toMatchObject({ msgId: sent.msgId, text: 'across' });
    await b.client.call(Req.WIZZ, { to: a.user });
    expect((await a.client.nextPush((f) => f.type === Srv.WIZZED)).body.from).toBe(b.user);

    const room = '#across';
    await a.client.call(Req.JOIN, { room });
    expect((await b.client.call(Req.JOIN, { room })).members).toEqual([a.user, b.user].sort());
    expect((await a.client.nextPush((f) => f.type === Srv.PRESENCE)).body).toEqual({ room, user: b.user, event: 'join' });
    await c.client.call(Req.JOIN, { room });
    await a.client.nextPush((f) => f.type === Srv.PRESENCE && f.body.user === c.user);
    await b.client.call(Req.SAY, { room, text: 'to both reactors' });
    expect((await a.client.nextPush((f) => f.type === Srv.ROOM)).body.text).toBe('to both reactors');
    expect((await c.client.nextPush((f) => f.type === Srv.ROOM)).body.text).toBe('to both reactors');
    expect(b.client.drainPushed().filter((f) => f.type === Srv.ROOM)).toEqual([]);
    expect((await c.client.call(Req.WHO, {})).users).toEqual(expect.arrayContaining([a.user, b.user, c.user]));

    await b.client.close(); // disconnect on reactor 2 → leave seen on reactor 1
    expect((await a.client.nextPush((f) => f.type === Srv.PRESENCE && f.body.event === 'leave')).body.user).toBe(b.user);
    await Promise.all([a.client.close(), c.client.close()]);
  });

  it('a LOGIN on the other reactor replaces the session and its room memberships', async () => {
    const [p1, p2] = h.ports as [number, number];
    const first = await loggedIn(p1);
    const watcher = await loggedIn(p2);
    await first.client.call(Req.JOIN, { room: '#repl' });
    await watcher.client.call(Req.JOIN, { room: '#repl' });
    const second = await loggedIn(p2, first.user, false);
    expect((await first.client.nextPush((f) => f.type === Srv.ERROR)).body.code).toBe('session_replaced');
    await first.client.closed;
    expect((await watcher.client.nextPush((f) => f.type === Srv.PRESENCE && f.body.event === 'leave')).body.user).toBe(first.user);
    expect((await watcher.client.call(Req.WHO, { room: '#repl' })).users).toEqual([watcher.user]);
    // Messages now reach the new session.
    await watcher.client.call(Req.SEND, { to: first.user, text: 'new session' });
    expect((await second.client.nextPush((f) => f.type === Srv.MESSAGE)).body.text).toBe('new session');
    await Promise.all([second.client.close(), watcher.client.close()]);
  });
});
