// The limits that keep users from hurting each other (server/limits/): the login deadline and the
// idle timeout, per-user token buckets for SEND/SAY/JOIN (and per connection for REGISTER),
// throttling of failed logins per name and per address, rooms per user, members per room,
// connections counted over all reactors, and WHO that never sorts the online users per request.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import path from 'node:path';
import { startHarness, type Harness } from '../testing/harness.ts';
import { loggedIn, PASSWORD, registered, tempDir, uniqueUser } from '../testing/helpers.ts';
import { WizzClient } from '../client/wizz-client.ts';
import { Req, Srv } from '../protocol/codes.ts';
import { Hub } from '../router/hub.ts';
import { TokenBuckets } from '../limits/token-bucket.ts';
import { DEFAULT_POLICY } from '../limits/policy.ts';
import { hashConcurrencyFor } from '../limits/hash-gate.ts';
import { loadConfig, policyOf, reactorLimitsOf } from '../config.ts';
import { DEFAULT_LIMITS } from '../reactor/reactor.ts';

const code = (f: { type: number; body: Record<string, unknown> }) => (f.type === Srv.ERROR ? f.body.code : 'ok');

describe('defaults never get in the way of real use', () => {
  it('every limit is a flag and a WIZZ_ variable, with the documented defaults', () => {
    const c = loadConfig([], {});
    expect(c.maxConnections).toBeGreaterThanOrEqual(10_000);
    expect(c.loginTimeoutS).toBe(30);
    expect(c.idleTimeoutS).toBe(300);
    expect(c.rateBurst).toBeGreaterThanOrEqual(500);
    expect(c.rateRefill).toBeGreaterThanOrEqual(50);
    expect(c.maxRoomsPerUser).toBeGreaterThanOrEqual(100);
    expect(c.maxRoomMembers).toBeGreaterThanOrEqual(10_000);
    expect(c.scryptLogN).toBe(17);
    expect(c.stallTimeoutS).toBe(60);
    // The hash gate's share of the cores depends on the reactors (one reactor alone: DEFAULT_POLICY).
    expect(policyOf(c)).toEqual({ ...DEFAULT_POLICY, hashGate: { ...DEFAULT_POLICY.hashGate, concurrency: hashConcurrencyFor(c.reactors) } });
    expect(policyOf(loadConfig(['--reactors', '1'], {}))).toEqual(DEFAULT_POLICY);
    expect(reactorLimitsOf(c)).toEqual({ maxConnections: c.maxConnections, maxStallMs: DEFAULT_LIMITS.maxStallMs });
    const set = loadConfig(['--rate-refill', '0', '--idle-timeout=60', '--stall-timeout', '5'], { WIZZ_MAX_ROOMS: '7', WIZZ_RATE_REFILL: '9' });
    expect([set.rateRefill, set.idleTimeoutS, set.maxRoomsPerUser]).toEqual([0, 60, 7]);
    expect(reactorLimitsOf(set).maxStallMs).toBe(5_000);
    expect(loadConfig([], { WIZZ_STALL_TIMEOUT: '90' }).stallTimeoutS).toBe(90);
    // Issue 19: sessions, fair hashing, failed-login throttling.
    expect([c.sessionTtlS, c.registersPerAddress, c.failedLoginsPerName, c.slowLoginsPerName, c.failedLoginsPerNameAddress, c.failedLoginsPerAddress, c.failedResumesPerAddress]).toEqual([
      30 * 86_400, 300, 20, 12, 10, 600, 60,
    ]);
    expect([c.hashConcurrency, c.hashQueue]).toEqual([0, 64]);
    expect([hashConcurrencyFor(2, 2), hashConcurrencyFor(1, 2), hashConcurrencyFor(1, 16), hashConcurrencyFor(8, 4)]).toEqual([1, 2, 3, 1]);
    const s19 = loadConfig(['--session-ttl', '3600', '--hash-concurrency=1'], { WIZZ_SESSION_TTL: '60', WIZZ_SLOW_LOGINS_PER_NAME: '6', WIZZ_REGISTERS_PER_ADDRESS: '0' });
    expect(policyOf(s19)).toMatchObject({ sessionTtlMs: 3_600_000, slowLoginsPerName: 6, registersPerAddress: { burst: 0, refillPerS: 0 }, hashGate: { concurrency: 1, maxQueued: 64 } });
    expect(() => loadConfig(['--session-ttl', '5'], {})).toThrow(/session-ttl must be an integer from 60/);
  });

  it('a token bucket: burst, refill, and 0 disables', () => {
    let now = 0;
    const b = new TokenBuckets({ burst: 3, refillPerS: 2 }, () => now);
    expect([b.take('a'), b.take('a'), b.take('a'), b.take('a'), b.take('b')]).toEqual([true, true, true, false, true]);
    expect(b.retryInMs('a')).toBe(500);
    now += 500;
    expect([b.take('a'), b.take('a')]).toEqual([true, false]);
    const off = new TokenBuckets({ burst: 3, refillPerS: 0 }, () => now);
    expect(Array.from({ length: 1_000 }, () => off.take('a')).every(Boolean)).toBe(true);
  });
});

describe('the login deadline', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ dbFile: path.join(tempDir(), 'wizz.db'), policy: { loginTimeoutMs: 400, idleTimeoutMs: 0 } });
  });
  afterAll(() => h?.stop());

  it('a connection that does not log in in time gets timeout and is closed, PINGs or not', async () => {
    const c = await WizzClient.connect(h.ports[0]!);
    const pinger = setInterval(() => c.post(Req.PING, {}), 100);
    const err = await c.nextPush((f) => f.type === Srv.ERROR, 5_000);
    clearInterval(pinger);
    expect(err.body.code).toBe('timeout');
    await c.closed;
  });
});

describe('the idle timeout', () => {
  let h: Harness;
  beforeAll(async () => {
    // No login deadline here: on a loaded machine a login may take longer than this test's idle bound.
    h = await startHarness({ dbFile: path.join(tempDir(), 'wizz.db'), policy: { loginTimeoutMs: 0, idleTimeoutMs: 800 } });
  });
  afterAll(() => h?.stop());

  it('a logged-in connection that sends nothing is closed; one that PINGs stays', async () => {
    const idle = await loggedIn(h.ports[0]!);
    const alive = await loggedIn(h.ports[0]!);
    const pinger = setInterval(() => alive.client.post(Req.PING, {}), 200);
    expect((await idle.client.nextPush((f) => f.type === Srv.ERROR, 5_000)).body.code).toBe('timeout');
    await idle.client.closed;
    await new Promise((r) => setTimeout(r, 1_000)); // longer than the idle timeout
    clearInterval(pinger);
    expect(alive.client.isClosed).toBe(false);
    expect((await alive.client.request(Req.PING, {})).type).toBe(Srv.OK);
    await alive.client.close();
  });
});

describe('token buckets, failed logins, rooms', () => {
  let h: Harness;
  let port: number;
  beforeAll(async () => {
    h = await startHarness({
      dbFile: path.join(tempDir(), 'wizz.db'),
      maxRoomMembers: 3,
      policy: {
        requests: { burst: 20, refillPerS: 0.2 }, // a token per 5 s: refill is tested with a clock above
        registersPerAddress: { burst: 20, refillPerS: 0.2 },
        failedLoginsPerNameAddress: { burst: 3, refillPerS: 0.01 },
        failedLoginsPerAddress: { burst: 8, refillPerS: 0.01 },
        maxRoomsPerUser: 3,
      },
    });
    port = h.ports[0]!;
  });
  afterAll(() => h?.stop());

  it('a SAY flood is cut at the burst with rate_limited; other users are unaffected; reconnecting does not refill', async () => {
    const flooder = await loggedIn(port);
    const other = await loggedIn(port);
    await flooder.client.call(Req.JOIN, { room: '#flood' }); // 1 token
    await other.client.call(Req.JOIN, { room: '#flood' });
    const started = Date.now();
    const replies = await Promise.all(Array.from({ length: 25 }, () => flooder.client.request(Req.SAY, { room: '#flood', text: 'x' })));
    const codes = replies.map(code);
    // 19 tokens were left (and one comes back per 5 s).
    const ok = codes.filter((c) => c === 'ok').length;
    expect(ok).toBeGreaterThanOrEqual(19);
    expect(ok).toBeLessThanOrEqual(19 + Math.ceil(((Date.now() - started) / 1000) * 0.2));
    expect(codes.at(-1)).toBe('rate_limited');
    expect(code(await other.client.request(Req.SAY, { room: '#flood', text: 'mine' }))).toBe('ok');
    expect(code(await flooder.client.request(Req.SEND, { to: other.user, text: 'dm' }))).toBe('rate_limited'); // one bucket per user
    // The bucket belongs to the user, not the connection: a new login finds it as it was.
    await flooder.client.close();
    const back = await loggedIn(port, flooder.user, false);
    const burst = await Promise.all(Array.from({ length: 5 }, () => back.client.request(Req.JOIN, { room: '#flood2' })));
    expect(burst.map(code)).toContain('rate_limited');
    await Promise.all([back.client.close(), other.client.close()]);
  });

  it('REGISTER is limited per address: reconnecting does not refill it; another address has its own', async () => {
    const started = Date.now();
    // 40 connections from 127.0.0.3 one after the other, one REGISTER each: the address's bucket,
    // not the connection's (one at a time, so the hash gate's per-address queue is not what refuses).
    const replies = [];
    for (let i = 0; i < 40; i++) {
      const c = await WizzClient.connect(port, '127.0.0.1', 10_000, '127.0.0.3');
      replies.push(await c.request(Req.REGISTER, { user: uniqueUser('r'), password: PASSWORD }));
      await c.close();
    }
    const ok = replies.map(code).filter((x) => x === 'ok').length;
    // 20 at once, then one per 5 s while the hashes run.
    expect(ok).toBeGreaterThanOrEqual(20);
    expect(ok).toBeLessThanOrEqual(20 + Math.ceil(((Date.now() - started) / 1000) * 0.2));
    expect(replies.map(code)).toContain('rate_limited');
    expect(String(replies.find((r) => code(r) === 'rate_limited')!.body.message)).toMatch(/accounts created from your address/);
    const elsewhere = await WizzClient.connect(port, '127.0.0.1', 10_000, '127.0.0.4');
    expect(code(await elsewhere.request(Req.REGISTER, { user: uniqueUser('r'), password: PASSWORD }))).toBe('ok');
    await elsewhere.close();
  });

  it('rooms per user and members per room are bounded with limit_reached', async () => {
    const a = await loggedIn(port);
    for (const room of ['#r1', '#r2', '#r3']) await a.client.call(Req.JOIN, { room });
    expect(code(await a.client.request(Req.JOIN, { room: '#r4' }))).toBe('limit_reached');
    expect(code(await a.client.request(Req.JOIN, { room: '#r1' }))).toBe('ok'); // already in: fine
    await a.client.call(Req.LEAVE, { room: '#r3' });
    expect(code(await a.client.request(Req.JOIN, { room: '#r4' }))).toBe('ok');
    const others = await Promise.all([loggedIn(port), loggedIn(port), loggedIn(port)]);
    expect(code(await others[0]!.client.request(Req.JOIN, { room: '#r1' }))).toBe('ok');
    expect(code(await others[1]!.client.request(Req.JOIN, { room: '#r1' }))).toBe('ok');
    expect(code(await others[2]!.client.request(Req.JOIN, { room: '#r1' }))).toBe('limit_reached');
    expect((await a.client.call(Req.WHO, { room: '#r1' })).users).toHaveLength(3);
    await Promise.all([a, ...others].map((x) => x.client.close()));
  });
  it('failed logins are throttled per (name, address) (even the right password waits) and per address', async () => {
    const user = await registered(port);
    const c = await WizzClient.connect(port);
    for (let i = 0; i < 3; i++) expect(code(await c.request(Req.LOGIN, { user, password: 'wrong password' }))).toBe('auth_failed');
    const refused = await c.request(Req.LOGIN, { user, password: PASSWORD });
    expect(code(refused)).toBe('rate_limited');
    expect(String(refused.body.message)).toMatch(/failed logins/);
    // Another name from the same address still logs in …
    const other = await registered(port);
    expect(code(await c.request(Req.LOGIN, { user: other, password: PASSWORD }))).toBe('ok');
    // … until the address has used up its failures (8: 3 above, 5 more on unknown names). Last
    // in this block: from here every LOGIN from 127.0.0.1 is refused.
    const d = await WizzClient.connect(port);
    for (let i = 0; i < 5; i++) expect(code(await d.request(Req.LOGIN, { user: uniqueUser('nobody'), password: 'wrong password' }))).toBe('auth_failed');
    expect(code(await d.request(Req.LOGIN, { user: await registered(port), password: PASSWORD }))).toBe('rate_limited');
    await Promise.all([c.close(), d.close()]);
  });
});

describe('connections are counted over all reactors', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ dbFile: path.join(tempDir(), 'wizz.db'), reactors: 2, maxConnections: 8 });
  });
  afterAll(() => h?.stop());

  it('all 8 allowed connections fit on one reactor; the 9th, on the other, gets server_full', async () => {
    const [p1, p2] = h.ports as [number, number];
    const open: WizzClient[] = [];
    for (let i = 0; i < 8; i++) open.push(await WizzClient.connect(p1));
    for (const c of open) expect((await c.request(Req.PING, {})).type).toBe(Srv.OK);
    const extra = await WizzClient.connect(p2);
    expect((await extra.nextPush((f) => f.type === Srv.ERROR)).body.code).toBe('server_full');
    await extra.closed;
    await Promise.all(open.map((c) => c.close()));
  });
});

describe('WHO on the Hub', () => {
  it('lists the first names in order without sorting every online user per request', () => {
    const hub = new Hub(() => {});
    const names = Array.from({ length: 5_000 }, (_, i) => `user_${(i * 7919) % 5_000}`);
    names.forEach((n, i) => hub.claim(n, 1, i));
    hub.join('#big', names[0]!, 1, 0);
    const sort = vi.spyOn(Array.prototype, 'sort');
    const first = hub.who(undefined, 1_000);
    const members = hub.who('#big', 1_000);
    expect(sort).not.toHaveBeenCalled();
    sort.mockRestore();
    expect(first).toEqual([...names].sort().slice(0, 1_000));
    expect(members).toEqual([names[0]]);
    hub.release(first[0]!, 1, names.indexOf(first[0]!));
    expect(hub.who(undefined, 2)).toEqual([...names].sort().slice(1, 3));
  });
});
