// Every request and every error code that a client can provoke, over real sockets against the
// in-process server (one reactor, the real database actor thread, ephemeral port).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { startHarness, type Harness } from '../testing/harness.ts';
import { loggedIn, PASSWORD, registered, tempDir, uniqueUser } from '../testing/helpers.ts';
import { WizzClient } from '../client/wizz-client.ts';
import { Req, Srv } from '../protocol/codes.ts';
import { frameBytes } from '../testing/fuzz.ts';

let h: Harness;
let port: number;

beforeAll(async () => {
  h = await startHarness({ dbFile: path.join(tempDir(), 'wizz.db') });
  port = h.ports[0]!;
});
afterAll(() => h?.stop());

function errorOf(frame: { type: number; body: Record<string, unknown> }): string {
  expect(frame.type).toBe(Srv.ERROR);
  expect(typeof frame.body.message).toBe('string');
  return frame.body.code as string;
}

describe('PING and request ids', () => {
  it('answers PING before login, echoing string and number ids', async () => {
    const c = await WizzClient.connect(port);
    expect(await c.request(Req.PING, { id: 'abc' })).toEqual({ type: Srv.OK, body: { re: 'abc' } });
    expect(await c.request(Req.PING, { id: 42 })).toEqual({ type: Srv.OK, body: { re: 42 } });
    await c.close();
  });

  it('a request without a usable id gets bad_request without re and the connection stays open', async () => {
    const c = await WizzClient.connect(port);
    c.post(Req.PING, { id: null });
    const err = await c.nextPush((f) => f.type === Srv.ERROR);
    expect(err.body.code).toBe('bad_request');
    expect(err.body.re).toBeUndefined();
    expect((await c.request(Req.PING, {})).type).toBe(Srv.OK);
    await c.close();
  });
});

describe('REGISTER and LOGIN', () => {
  it('registers, refuses a taken name, logs in with pending 0', async () => {
    const c = await WizzClient.connect(port);
    const user = uniqueUser();
    expect((await c.request(Req.REGISTER, { id: 1, user, password: PASSWORD })).body).toEqual({ re: 1 });
    expect(errorOf(await c.request(Req.REGISTER, { user, password: PASSWORD }))).toBe('user_taken');
    const ok = await c.request(Req.LOGIN, { id: 'l', user, password: PASSWORD });
    expect(ok).toEqual({ type: Srv.OK, body: { re: 'l', user, pending: 0, token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) } });
    await c.close();
  });

  it('rejects malformed fields with bad_request', async () => {
    const c = await WizzClient.connect(port);
    const bad = [
      { user: 'AB', password: PASSWORD },
      { user: 'has space', password: PASSWORD },
      { user: 'x'.repeat(25), password: PASSWORD },
      { user: uniqueUser(), password: 'short' },
      { user: uniqueUser(), password: 'p'.repeat(129) },
      { user: uniqueUser() },
      { password: PASSWORD },
      { user: 7, password: PASSWORD },
    ];
    for (const body of bad) expect(errorOf(await c.request(Req.REGISTER, body))).toBe('bad_request');
    // Lengths count code points: 8 emoji are 16 UTF-16 units but a valid 8-character password.
    expect((await c.request(Req.REGISTER, { user: uniqueUser(), password: '😀'.repeat(8) })).type).toBe(Srv.OK);
    expect(errorOf(await c.request(Req.REGISTER, { user: uniqueUser(), password: '😀'.repeat(7) }))).toBe('bad_request');
    await c.close();
  });

  it('wrong password and unknown user both give auth_failed with the same message', async () => {
    const user = await registered(port);
    const c = await WizzClient.connect(port);
    const wrong = await c.request(Req.LOGIN, { user, password: 'wrong password' });
    const unknown = await c.request(Req.LOGIN, { user: uniqueUser('nobody'), password: PASSWORD });
    expect(errorOf(wrong)).toBe('auth_failed');
    expect(errorOf(unknown)).toBe('auth_failed');
    expect(wrong.body.message).toBe(unknown.body.message);
    expect((await c.request(Req.PING, {})).type).toBe(Srv.OK);
    await c.close();
  });

  it('before LOGIN only REGISTER, LOGIN and PING are accepted', async () => {
    const c = await WizzClient.connect(port);
    const requests: Array<[number, Record<string, unknown>]> = [
      [Req.SEND, { to: 'bob', text: 'hi' }],
      [Req.WIZZ, { to: 'bob' }],
      [Req.JOIN, { room: '#a' }],
      [Req.LEAVE, { room: '#a' }],
      [Req.SAY, { room: '#a', text: 'hi' }],
      [Req.WHO, {}],
      [Req.HISTORY, { with: 'bob' }],
    ];
    for (const [type, body] of requests) expect(errorOf(await c.request(type, body))).toBe('unauthenticated');
    await c.close();
  });

  it('LOGIN on a logged-in connection is bad_request', async () => {
    const { client, user } = await loggedIn(port);
    expect(errorOf(await client.request(Req.LOGIN, { user, password: PASSWORD }))).toBe('bad_request');
    await client.close();
  });

  it('a second LOGIN elsewhere replaces the first session', async () => {
    const first = await loggedIn(port);
    const second = await loggedIn(port, first.user, false);
    const err = await first.client.nextPush((f) => f.type === Srv.ERROR);
    expect(err.body.code).toBe('session_replaced');
    await first.client.closed;
    expect((await second.client.request(Req.PING, {})).type).toBe(Srv.OK);
    await second.client.close();
  });
});

describe('SEND and HISTORY', () => {
  it('delivers at once to an online recipient, acknowledges with msgId and ts', async () => {
    const a = await loggedIn(port);
    const b = await loggedIn(port);
    const before = Date.now();
    const ok = await a.client.call(Req.SEND, { to: b.user, text: 'héllo 👋' });
    expect(ok.msgId).toBeGreaterThan(0);
    expect(ok.ts).toBeGreaterThanOrEqual(before - 1);
    const msg = await b.client.nextPush((f) => f.type === Srv.MESSAGE);
    expect(msg.body).toEqual({ msgId: ok.msgId, from: a.user, to: b.user, text: 'héllo 👋', ts: ok.ts });
    await Promise.all([a.client.close(), b.client.close()]);
  });

  it('stores for an offline recipient and hands the backlog over at LOGIN, oldest first', async () => {
    const a = await loggedIn(port);
    const bob = await registered(port);
    const ids: number[] = [];
    for (const text of ['one', 'two', 'three']) ids.push((await a.client.call(Req.SEND, { to: bob, text })).msgId as number);
    expect(ids[0]! < ids[1]! && ids[1]! < ids[2]!).toBe(true);
    const b = await loggedIn(port, bob, false);
    expect(b.login).toEqual({ re: expect.anything(), user: bob, pending: 3, token: expect.any(String) });
    const got = [];
    for (let i = 0; i < 3; i++) got.push((await b.client.nextPush((f) => f.type === Srv.MESSAGE)).body.text);
    expect(got).toEqual(['one', 'two', 'three']);
    await b.client.close();
    // Delivered now: the next LOGIN has nothing pending.
    const again = await loggedIn(port, bob, false);
    expect(again.login.pending).toBe(0);
    await Promise.all([a.client.close(), again.client.close()]);
  });

  it('checks recipient and text', async () => {
    const a = await loggedIn(port);
    const b = await registered(port);
    expect(errorOf(await a.client.request(Req.SEND, { to: uniqueUser('ghost'), text: 'x' }))).toBe('no_such_user');
    expect(errorOf(await a.client.request(Req.SEND, { to: b, text: '' }))).toBe('bad_request');
    expect(errorOf(await a.client.request(Req.SEND, { to: b, text: 'x'.repeat(4001) }))).toBe('bad_request');
    expect(errorOf(await a.client.request(Req.SEND, { to: b }))).toBe('bad_request');
    expect(errorOf(await a.client.request(Req.SEND, { to: b, text: 5 }))).toBe('bad_request');
    expect((await a.client.request(Req.SEND, { to: b, text: '😀'.repeat(4000) })).type).toBe(Srv.OK);
    await a.client.close();
  });

  it('HISTORY: newest first, limit (default 50, clamped to 100), before', async () => {
    const a = await loggedIn(port);
    const b = await loggedIn(port);
    const ids: number[] = [];
    for (let i = 0; i < 120; i++) {
      const from = i % 2 === 0 ? a : b;
      const to = i % 2 === 0 ? b : a;
      ids.push((await from.client.call(Req.SEND, { to: to.user, text: `m${i}` })).msgId as number);
    }
    const def = (await a.client.call(Req.HISTORY, { with: b.user })).messages as Array<Record<string, unknown>>;
    expect(def).toHaveLength(50);
    expect(def[0]).toMatchObject({ msgId: ids[119], text: 'm119', from: b.user, to: a.user });
    expect(def.map((m) => m.msgId)).toEqual(ids.slice(70).reverse());
    const clamped = (await b.client.call(Req.HISTORY, { with: a.user, limit: 1000 })).messages as unknown[];
    expect(clamped).toHaveLength(100);
    const page = (await a.client.call(Req.HISTORY, { with: b.user, before: ids[10], limit: 5 })).messages as Array<Record<string, unknown>>;
    expect(page.map((m) => m.text)).toEqual(['m9', 'm8', 'm7', 'm6', 'm5']);
    expect(errorOf(await a.client.request(Req.HISTORY, { with: b.user, limit: 0 }))).toBe('bad_request');
    expect(errorOf(await a.client.request(Req.HISTORY, { with: b.user, before: 'x' }))).toBe('bad_request');
    expect(errorOf(await a.client.request(Req.HISTORY, { with: uniqueUser('ghost') }))).toBe('no_such_user');
    await Promise.all([a.client.close(), b.client.close()]);
  });
});

describe('HISTORY with any positive integer', () => {
  it('a limit of any size is clamped to 100; a before beyond 2^53 bounds nothing; 0, fractions, Infinity and strings are bad_request', async () => {
    const a = await loggedIn(port);
    const b = await loggedIn(port);
    const ids: number[] = [];
    for (let i = 0; i < 105; i++) ids.push((await a.client.call(Req.SEND, { to: b.user, text: `h${i}` })).msgId as number);
    const newest = ids.slice(5).reverse();
    for (const limit of [1e300, Number.MAX_SAFE_INTEGER + 2, 2 ** 64, 101]) {
      const got = (await a.client.call(Req.HISTORY, { with: b.user, limit })).messages as Array<{ msgId: number }>;
      expect(got.map((m) => m.msgId)).toEqual(newest);
    }
    for (const before of [1e300, 2 ** 63, Number.MAX_SAFE_INTEGER + 1, Number.MAX_SAFE_INTEGER]) {
      const got = (await a.client.call(Req.HISTORY, { with: b.user, before, limit: 3 })).messages as Array<{ msgId: number }>;
      expect(got.map((m) => m.msgId)).toEqual(newest.slice(0, 3));
    }
    for (const bad of [0, -1, 1.5, '5', null, true]) {
      expect(errorOf(await a.client.request(Req.HISTORY, { with: b.user, limit: bad }))).toBe('bad_request');
      expect(errorOf(await a.client.request(Req.HISTORY, { with: b.user, before: bad }))).toBe('bad_request');
    }
    // 1e309 is Infinity to JSON.parse: not an integer. JSON's 5E0 and 1.0 are the integers 5 and 1.
    const raw = (json: string) => {
      a.client.writeRaw(frameBytes(Req.HISTORY, json));
      return a.client.nextPush((f) => f.type === Srv.OK || f.type === Srv.ERROR);
    };
    expect((await raw(`{"id":"inf","with":"${b.user}","limit":1e309}`)).body).toMatchObject({ re: 'inf', code: 'bad_request' });
    expect((await raw(`{"id":"big","with":"${b.user}","before":1e400}`)).body).toMatchObject({ re: 'big', code: 'bad_request' });
    expect((await raw(`{"id":"e0","with":"${b.user}","limit":5E0}`)).body.messages).toHaveLength(5);
    expect((await raw(`{"id":"one","with":"${b.user}","limit":1.0}`)).body.messages).toHaveLength(1);
    await Promise.all([a.client.close(), b.client.close()]);
  });

  it('a numeric id is echoed as JSON.parse read it: beyond 2^53 it loses digits, so use a string', async () => {
    const c = await WizzClient.connect(port);
    c.writeRaw(frameBytes(Req.PING, '{"id":12345678901234567890}'));
    const ok = await c.nextPush((f) => f.type === Srv.OK);
    expect(JSON.stringify(ok.body.re)).toBe('12345678901234567000'); // the nearest double; the digits past 2^53 are gone
    expect((await c.request(Req.PING, { id: Number.MAX_SAFE_INTEGER })).body).toEqual({ re: Number.MAX_SAFE_INTEGER });
    expect((await c.request(Req.PING, { id: '12345678901234567890' })).body).toEqual({ re: '12345678901234567890' });
    await c.close();
  });
});

describe('WIZZ', () => {
  it('nudges an online user once per 5 s; offline and unknown recipients are errors', async () => {
    const a = await loggedIn(port);
    const b = await loggedIn(port);
    const c = await registered(port);
    expect(await a.client.call(Req.WIZZ, { to: b.user })).toEqual({ re: expect.anything() });
    const wizzed = await b.client.nextPush((f) => f.type === Srv.WIZZED);
    expect(wizzed.body).toEqual({ from: a.user, ts: expect.any(Number) });
    expect(errorOf(await a.client.request(Req.WIZZ, { to: b.user }))).toBe('rate_limited');
    expect(errorOf(await a.client.request(Req.WIZZ, { to: c }))).toBe('offline');
    expect(errorOf(await a.client.request(Req.WIZZ, { to: uniqueUser('ghost') }))).toBe('no_such_user');
    // The limit is per sender→recipient: b may still wizz a.
    expect((await b.client.request(Req.WIZZ, { to: a.user })).type).toBe(Srv.OK);
    await Promise.all([a.client.close(), b.client.close()]);
  });
});

describe('rooms and WHO', () => {
  it('JOIN, PRESENCE, SAY to the others only, LEAVE and disconnect', async () => {
    const room = `#r${process.pid % 1000}-a`;
    const a = await loggedIn(port);
    const b = await loggedIn(port);
    const c = await loggedIn(port);
    expect(await a.client.call(Req.JOIN, { room })).toEqual({ re: expect.anything(), room, members: [a.user] });
    const joinB = await b.client.call(Req.JOIN, { room });
    expect(joinB.members).toEqual([a.user, b.user].sort());
    expect((await a.client.nextPush((f) => f.type === Srv.PRESENCE)).body).toEqual({ room, user: b.user, event: 'join' });
    // Joining again is OK and announces nothing.
    expect((await b.client.call(Req.JOIN, { room })).members).toEqual([a.user, b.user].sort());
    await c.client.call(Req.JOIN, { room });
    await a.client.nextPush((f) => f.type === Srv.PRESENCE && f.body.user === c.user);
    await b.client.nextPush((f) => f.type === Srv.PRESENCE && f.body.user === c.user);

    const said = await a.client.call(Req.SAY, { room, text: 'hello room' });
    expect(said.ts).toEqual(expect.any(Number));
    for (const x of [b, c]) {
      expect((await x.client.nextPush((f) => f.type === Srv.ROOM)).body).toEqual({ room, from: a.user, text: 'hello room', ts: said.ts });
    }
    expect((await a.client.call(Req.WHO, { room })).users).toEqual([a.user, b.user, c.user].sort());

    expect(await b.client.call(Req.LEAVE, { room })).toEqual({ re: expect.anything() });
    expect((await a.client.nextPush((f) => f.type === Srv.PRESENCE && f.body.event === 'leave')).body).toEqual({ room, user: b.user, event: 'leave' });
    await c.client.nextPush((f) => f.type === Srv.PRESENCE && f.body.event === 'leave');
    expect(errorOf(await b.client.request(Req.SAY, { room, text: 'x' }))).toBe('not_member');
    expect(errorOf(await b.client.request(Req.LEAVE, { room }))).toBe('not_member');

    await c.client.close();
    expect((await a.client.nextPush((f) => f.type === Srv.PRESENCE && f.body.event === 'leave')).body.user).toBe(c.user);
    // No ROOM was echoed to the sender.
    expect(a.client.drainPushed().filter((f) => f.type === Srv.ROOM)).toEqual([]);
    await Promise.all([a.client.close(), b.client.close()]);
  });

  it('validates room names and texts', async () => {
    const a = await loggedIn(port);
    for (const room of ['lobby', '#', '#UPPER', `#${'x'.repeat(33)}`, '#a b']) {
      expect(errorOf(await a.client.request(Req.JOIN, { room }))).toBe('bad_request');
    }
    await a.client.call(Req.JOIN, { room: '#v_a-1' });
    expect(errorOf(await a.client.request(Req.SAY, { room: '#v_a-1', text: '' }))).toBe('bad_request');
    expect(errorOf(await a.client.request(Req.SAY, { room: '#v_a-1', text: 'y'.repeat(4001) }))).toBe('bad_request');
    expect(errorOf(await a.client.request(Req.WHO, { room: 'nope' }))).toBe('bad_request');
    await a.client.close();
  });

  it('WHO lists online users sorted', async () => {
    const a = await loggedIn(port);
    const b = await loggedIn(port);
    const users = (await a.client.call(Req.WHO, {})).users as string[];
    expect(users).toContain(a.user);
    expect(users).toContain(b.user);
    expect(users).toEqual([...users].sort());
    await b.client.close();
    await new Promise((r) => setTimeout(r, 50));
    expect((await a.client.call(Req.WHO, {})).users).not.toContain(b.user);
    expect((await a.client.call(Req.WHO, { room: '#empty-room' })).users).toEqual([]);
    await a.client.close();
  });
});

describe('well-formed Unicode: stored = sent = delivered', () => {
  it('a lone surrogate in any string field is bad_request naming the field; nothing is stored or delivered', async () => {
    const a = await loggedIn(port);
    const b = await loggedIn(port);
    await a.client.call(Req.JOIN, { room: '#lone' });
    const cases: Array<[number, Record<string, unknown>, string]> = [
      [Req.SEND, { to: b.user, text: 'x\ud800y' }, 'text'],
      [Req.SEND, { to: b.user, text: '\ud800'.repeat(4_000) }, 'text'],
      [Req.SEND, { to: b.user, text: 'fine', key: 'k\udc00' }, 'key'],
      [Req.SEND, { to: `${b.user}\ud800`, text: 'fine' }, 'to'],
      [Req.WIZZ, { to: `${b.user}\udfff` }, 'to'],
      [Req.SAY, { room: '#lone', text: '\udbff!' }, 'text'],
      [Req.JOIN, { room: '#lone\ud800' }, 'room'],
      [Req.WHO, { room: '#lone\ud800' }, 'room'],
      [Req.HISTORY, { with: `${b.user}\ud800` }, 'with'],
    ];
    for (const [type, body, field] of cases) {
      const reply = await a.client.request(type, body);
      expect(errorOf(reply)).toBe('bad_request');
      expect(reply.body.message).toContain(`"${field}" must be well-formed Unicode`);
    }
    const anon = await WizzClient.connect(port);
    const reg = await anon.request(Req.REGISTER, { user: uniqueUser(), password: `${PASSWORD}\ud800` });
    expect(reg.body.message).toContain('"password" must be well-formed Unicode');
    // A string id must be well-formed too: the reply could not echo it as it was sent (no `re`).
    anon.post(Req.PING, { id: 'p\ud800' });
    const err = await anon.nextPush((f) => f.type === Srv.ERROR);
    expect(err.body).toEqual({ code: 'bad_request', message: expect.stringContaining('well-formed') });
    expect((await anon.request(Req.PING, { id: 'p\ufffd' })).body).toEqual({ re: 'p\ufffd' });
    // Nothing of the refused SENDs and SAY was stored or reached anyone.
    await a.client.call(Req.SEND, { to: b.user, text: 'marker' });
    await b.client.nextPush((f) => f.type === Srv.MESSAGE && f.body.text === 'marker');
    expect(b.client.drainPushed().filter((f) => f.type === Srv.MESSAGE || f.type === Srv.ROOM)).toEqual([]);
    const history = (await a.client.call(Req.HISTORY, { with: b.user })).messages as Array<{ text: string }>;
    expect(history.map((m) => m.text)).toEqual(['marker']);
    await Promise.all([a.client.close(), b.client.close(), anon.close()]);
  });

  it('a text reaches its recipient exactly as sent: live, in HISTORY and at the next LOGIN', async () => {
    const texts = ['héllo 👋', '\ufffd', 'a\u0000b', '\u{10FFFF}\ufeff\u2028', '😀'.repeat(4_000)];
    const a = await loggedIn(port);
    const b = await loggedIn(port);
    for (const text of texts) {
      const ok = await a.client.call(Req.SEND, { to: b.user, text });
      expect((await b.client.nextPush((f) => f.type === Srv.MESSAGE && f.body.msgId === ok.msgId)).body.text).toBe(text);
    }
    const live = (await b.client.call(Req.HISTORY, { with: a.user })).messages as Array<{ text: string }>;
    expect(live.map((m) => m.text).reverse()).toEqual(texts);
    await b.client.close();
    const offline = await registered(port);
    for (const text of texts) await a.client.call(Req.SEND, { to: offline, text });
    const later = await loggedIn(port, offline, false);
    const got: string[] = [];
    for (let i = 0; i < texts.length; i++) got.push((await later.client.nextPush((f) => f.type === Srv.MESSAGE)).body.text as string);
    expect(got).toEqual(texts);
    await Promise.all([a.client.close(), later.client.close()]);
  });
});
