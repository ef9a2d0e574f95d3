// RedisHub across hosts: three RedisHub instances (three node ids) in this process, on one real
// redis-server started here, each recording the events it hands its reactors. Every wait is a
// poll with a deadline.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startRedis, type ThrowawayRedis } from '../testing/redis.ts';
import { RedisHub, type RedisHubOptions } from '../cluster/redis-hub.ts';
import { channels, keys } from '../cluster/keys.ts';
import { HEARTBEAT, REAP } from '../cluster/scripts.ts';
import { LinkError } from '../router/link.ts';
import { JOIN_MEMBERS_MAX } from '../router/hub.ts';
import type { RouteEvent } from '../router/router.ts';

interface Host {
  hub: RedisHub;
  /** Everything handed to this host's reactors, in order. */
  events: Array<{ reactor: number; ev: RouteEvent }>;
}

let redis: ThrowawayRedis;
let admin: Redis;
let live: RedisHub[] = [];
let run = 0;

beforeAll(async () => {
  redis = await startRedis();
  admin = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  admin.on('error', () => {});
  await admin.connect();
});

afterEach(async () => {
  for (const hub of live) hub.halt();
  live = [];
  if (!redis.running) await redis.restart(); // a test that failed while Redis was down
  await waitUntil(() => admin.status === 'ready', 10_000, 'the admin connection is back');
  await admin.flushall();
});

afterAll(async () => {
  for (const hub of live) hub.halt();
  admin?.disconnect();
  await redis?.stop();
});

/** Three hosts n1..n3 (fresh node ids per test), started. */
async function cluster(options: Partial<RedisHubOptions> = {}): Promise<[Host, Host, Host]> {
  run++;
  const hosts = await Promise.all([1, 2, 3].map((i) => startHost(`t${run}-n${i}`, options)));
  return hosts as [Host, Host, Host];
}

async function startHost(nodeId: string, options: Partial<RedisHubOptions>): Promise<Host> {
  const events: Host['events'] = [];
  const hub = new RedisHub({ url: redis.url, nodeId, emit: (reactor, ev) => events.push({ reactor, ev }), ...options });
  live.push(hub);
  await hub.start();
  return { hub, events };
}

async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(20);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Lets pub/sub messages in flight arrive (the checks of "nothing else came"). */
const settle = () => sleep(150);

function kinds(h: Host, e: RouteEvent['e']): Array<{ reactor: number; ev: RouteEvent }> {
  return h.events.filter((x) => x.ev.e === e);
}

async function refusal(p: Promise<unknown>): Promise<LinkError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(LinkError);
    return err as LinkError;
  }
  throw new Error('expected a LinkError, the call succeeded');
}

describe('ownership: claim, replace, release', () => {
  it('two racing claims for one user on two hosts leave exactly one owner; the other is replaced', async () => {
    const [a, b] = await cluster();
    const users = Array.from({ length: 20 }, (_, i) => `racer_${i}`);
    await Promise.all(users.flatMap((u, i) => [a.hub.claim(u, 1, 100 + i), b.hub.claim(u, 2, 200 + i)]));
    await waitUntil(() => kinds(a, 'replace').length + kinds(b, 'replace').length === users.length, 5_000, 'every loser heard replace');
    for (const [i, u] of users.entries()) {
      const owner = await admin.hget(keys.owner(u), 'node');
      const winner = owner === a.hub.nodeId ? a : b;
      const loser = winner === a ? b : a;
      const loserSession = loser === a ? 100 + i : 200 + i;
      expect(loser.events).toContainEqual({ reactor: loser === a ? 1 : 2, ev: { e: 'replace', user: u, session: loserSession } });
      expect(winner.events.some((x) => x.ev.e === 'replace' && x.ev.user === u)).toBe(false);
    }
    expect(a.hub.localOnline + b.hub.localOnline).toBe(users.length);
    expect(await a.hub.who(undefined, 100)).toEqual([...users].sort());
  });

  it('a claim on another host replaces the old session there and drops its rooms with PRESENCE leave', async () => {
    const [a, b, c] = await cluster();
    await a.hub.claim('alice', 1, 11);
    await c.hub.claim('carol', 3, 31);
    await a.hub.join('#r', 'alice', 1, 11);
    await c.hub.join('#r', 'carol', 3, 31);
    await b.hub.claim('alice', 2, 21);
    await waitUntil(() => kinds(a, 'replace').length === 1, 5_000, 'A heard replace');
    expect(kinds(a, 'replace')).toEqual([{ reactor: 1, ev: { e: 'replace', user: 'alice', session: 11 } }]);
    await waitUntil(() => kinds(c, 'presence').some((x) => x.ev.e === 'presence' && x.ev.event === 'leave'), 5_000, 'C heard alice leave');
    expect(c.events.at(-1)).toEqual({ reactor: 3, ev: { e: 'presence', room: '#r', user: 'alice', event: 'leave' } });
    expect(await b.hub.who('#r', 10)).toEqual(['carol']);
    expect(a.hub.localOnline).toBe(0);
    expect(b.hub.localOnline).toBe(1);
    expect(await c.hub.who(undefined, 10)).toEqual(['alice', 'carol']);
  });

  it('release only ends the session that still owns the user', async () => {
    const [a, b] = await cluster();
    await a.hub.claim('alice', 1, 1);
    await a.hub.claim('alice', 2, 2); // a newer login on the same host, another reactor
    await b.hub.claim('bob', 1, 5);
    await a.hub.join('#r', 'alice', 2, 2);
    await b.hub.join('#r', 'bob', 1, 5);
    await waitUntil(() => kinds(a, 'presence').length === 1, 5_000, 'A heard bob join');
    await a.hub.release('alice', 1, 1); // the replaced session ends late: nothing changes
    expect(await b.hub.who(undefined, 10)).toEqual(['alice', 'bob']);
    expect(await b.hub.who('#r', 10)).toEqual(['alice', 'bob']);
    await a.hub.release('alice', 2, 2);
    expect(await b.hub.who(undefined, 10)).toEqual(['bob']);
    expect(await b.hub.who('#r', 10)).toEqual(['bob']);
    await waitUntil(() => kinds(b, 'presence').length === 1, 5_000, 'B heard alice leave');
    expect(kinds(b, 'presence')).toEqual([{ reactor: 1, ev: { e: 'presence', room: '#r', user: 'alice', event: 'leave' } }]);
    expect(a.hub.localOnline).toBe(0);
  });

  it('a reactor that dies takes its users offline, and only its users', async () => {
    const [a, b] = await cluster();
    await a.hub.claim('alice', 1, 1);
    await a.hub.claim('amy', 2, 2);
    await b.hub.claim('bob', 1, 3);
    await a.hub.join('#r', 'alice', 1, 1);
    await b.hub.join('#r', 'bob', 1, 3);
    a.hub.reactorGone(1);
    await waitUntil(async () => (await b.hub.who(undefined, 10)).length === 2, 5_000, 'alice is offline');
    expect(await b.hub.who(undefined, 10)).toEqual(['amy', 'bob']);
    expect(await b.hub.who('#r', 10)).toEqual(['bob']);
    await waitUntil(() => kinds(b, 'presence').length === 1, 5_000, 'B heard alice leave');
  });
});

describe('routing across hosts', () => {
  it('delivers a DM to the recipient on another host, and nowhere else', async () => {
    const [a, b, c] = await cluster();
    await b.hub.claim('bob', 7, 70);
    const msg = { msgId: 42, from: 'alice', to: 'bob', text: 'hi bob', ts: 1_700_000_000_123 };
    await a.hub.deliver(msg);
    await waitUntil(() => b.events.length === 1, 5_000, 'B got the DM');
    expect(b.events).toEqual([{ reactor: 7, ev: { e: 'dm', msg } }]);
    await a.hub.deliver({ ...msg, msgId: 43, to: 'nobody' }); // offline: nothing, no error
    await settle();
    expect(a.events).toEqual([]);
    expect(c.events).toEqual([]);
    expect(b.events).toHaveLength(1);
  });

  it('WHO lists the users of every host, sorted, at most the limit', async () => {
    const [a, b, c] = await cluster({ leaseMs: 900 });
    await c.hub.claim('carol', 1, 1);
    await a.hub.claim('alice', 1, 2);
    await b.hub.claim('bob', 1, 3);
    for (const h of [a, b, c]) expect(await h.hub.who(undefined, 10)).toEqual(['alice', 'bob', 'carol']);
    expect(await c.hub.who(undefined, 2)).toEqual(['alice', 'bob']);
    expect(await c.hub.who(undefined, 0)).toEqual([]);
    expect(await c.hub.who('#none', 10)).toEqual([]);
    await waitUntil(() => a.hub.onlineCount === 3, 10_000, 'the online count (refreshed by the lease) says 3');
  });

  it('JOIN, SAY, LEAVE and PRESENCE reach the members on every host', async () => {
    const [a, b, c] = await cluster();
    await a.hub.claim('alice', 1, 1);
    await b.hub.claim('bob', 1, 2);
    await c.hub.claim('carol', 2, 3);
    await c.hub.claim('dave', 3, 4);

    expect(await a.hub.join('#lobby', 'alice', 1, 1)).toEqual({ members: ['alice'], already: false });
    expect(await b.hub.join('#lobby', 'bob', 1, 2)).toEqual({ members: ['alice', 'bob'], already: false });
    expect(await c.hub.join('#lobby', 'carol', 2, 3)).toEqual({ members: ['alice', 'bob', 'carol'], already: false });
    expect(await c.hub.join('#lobby', 'dave', 3, 4)).toEqual({ members: ['alice', 'bob', 'carol', 'dave'], already: false });
    expect(await a.hub.join('#lobby', 'alice', 1, 1)).toEqual({ members: ['alice', 'bob', 'carol', 'dave'], already: true });
    await waitUntil(() => kinds(a, 'presence').length === 3 && kinds(b, 'presence').length === 2 && kinds(c, 'presence').length === 1, 5_000, 'the joins were announced');
    expect(kinds(a, 'presence').map((x) => x.ev)).toEqual(['bob', 'carol', 'dave'].map((user) => ({ e: 'presence', room: '#lobby', user, event: 'join' })));
    expect(kinds(c, 'presence')).toEqual([{ reactor: 2, ev: { e: 'presence', room: '#lobby', user: 'dave', event: 'join' } }]);

    await b.hub.say('#lobby', 'bob', 'hello all', 1000);
    await waitUntil(() => kinds(a, 'room').length === 1 && kinds(c, 'room').length === 2, 5_000, 'the SAY arrived');
    const said = { e: 'room', room: '#lobby', from: 'bob', text: 'hello all', ts: 1000 };
    expect(kinds(a, 'room')).toEqual([{ reactor: 1, ev: said }]);
    expect(kinds(c, 'room').map((x) => x.reactor).sort()).toEqual([2, 3]); // one event per reactor
    expect(kinds(b, 'room')).toEqual([]); // bob is B's only member: nobody else to tell there

    await c.hub.say('#lobby', 'zed', 'not a member', 1001); // only members speak, as in the Hub
    expect(await c.hub.leave('#lobby', 'carol', 2, 3)).toBe(true);
    expect(await c.hub.leave('#lobby', 'carol', 2, 3)).toBe(false);
    expect(await c.hub.leave('#lobby', 'dave', 9, 9)).toBe(false); // not the owning session
    expect(await b.hub.who('#lobby', 10)).toEqual(['alice', 'bob', 'dave']);
    await waitUntil(() => kinds(b, 'presence').length === 3, 5_000, 'B heard carol leave');
    expect(kinds(b, 'presence').at(-1)?.ev).toEqual({ e: 'presence', room: '#lobby', user: 'carol', event: 'leave' });
    await settle();
    expect(kinds(a, 'room')).toHaveLength(1);
    expect(kinds(c, 'presence').filter((x) => x.reactor === 2)).toHaveLength(1); // carol's own leave is not sent to her
  });

  it('a JOIN lists the first 1000 members in name order, the joiner always among them', async () => {
    // 1,000 JOINs at once, each listing up to 1,000 names: seconds of Redis time on a busy machine.
    const [a, b] = await cluster({ commandTimeoutMs: 15_000 });
    const names = Array.from({ length: JOIN_MEMBERS_MAX }, (_, i) => `m_${String((i * 7919) % JOIN_MEMBERS_MAX).padStart(4, '0')}`);
    await Promise.all(names.map((n, i) => a.hub.claim(n, 1 + (i % 4), i)));
    await Promise.all(names.map((n, i) => a.hub.join('#big', n, 1 + (i % 4), i)));
    await b.hub.claim('zz_last', 1, 5000);
    const joined = await b.hub.join('#big', 'zz_last', 1, 5000);
    expect(joined.members).toHaveLength(JOIN_MEMBERS_MAX);
    expect(joined.members).toEqual([...[...names].sort().slice(0, JOIN_MEMBERS_MAX - 1), 'zz_last']);
    await b.hub.claim('aa_first', 1, 5001);
    const first = await b.hub.join('#big', 'aa_first', 1, 5001);
    expect(first.members[0]).toBe('aa_first');
    expect(first.members).toHaveLength(JOIN_MEMBERS_MAX);
    expect(await a.hub.who('#big', 3)).toEqual(['aa_first', ...[...names].sort().slice(0, 2)]);
  });

  it('refuses a JOIN with limit_reached when the room is full on any host, and with session_replaced for a replaced session', async () => {
    const [a, b, c] = await cluster({ maxRoomMembers: 2 });
    await a.hub.claim('alice', 1, 1);
    await b.hub.claim('bob', 1, 2);
    await c.hub.claim('carol', 1, 3);
    await a.hub.join('#small', 'alice', 1, 1);
    await b.hub.join('#small', 'bob', 1, 2);
    expect((await refusal(c.hub.join('#small', 'carol', 1, 3))).code).toBe('limit_reached');
    expect(await a.hub.join('#small', 'alice', 1, 1)).toEqual({ members: ['alice', 'bob'], already: true }); // a member may always re-join
    expect(await c.hub.who('#small', 10)).toEqual(['alice', 'bob']);

    // alice logs in on C; A's session is replaced — the JOIN right after may come before A heard it.
    await c.hub.claim('alice', 2, 9);
    expect((await refusal(a.hub.join('#other', 'alice', 1, 1))).code).toBe('session_replaced');
    expect((await refusal(a.hub.join('#other', 'nobody', 1, 1))).code).toBe('session_replaced');
    expect(await c.hub.join('#other', 'alice', 2, 9)).toEqual({ members: ['alice'], already: false });
    await waitUntil(() => a.hub.stats().roomChannels === 0, 5_000, 'A dropped its room channels');
  });

  it('each host receives one copy of a room message however many members it holds', async () => {
    const [a, b, c] = await cluster();
    // A: 3 members on 2 reactors; B: 2 members on 1 reactor; C: none in #fan (a member elsewhere).
    const members: Array<[Host, string, number]> = [[a, 'a1', 1], [a, 'a2', 1], [a, 'a3', 2], [b, 'b1', 1], [b, 'b2', 1]];
    for (const [h, user, reactor] of members) {
      await h.hub.claim(user, reactor, 1);
      await h.hub.join('#fan', user, reactor, 1);
    }
    await c.hub.claim('c1', 1, 1);
    await c.hub.join('#elsewhere', 'c1', 1, 1);
    const [, subscribers] = (await admin.pubsub('NUMSUB', channels.room('#fan'))) as [string, number];
    expect(subscribers).toBe(2);
    const before = [a, b, c].map((h) => h.hub.stats().received.room);
    const events = [a, b, c].map((h) => kinds(h, 'room').length);
    const N = 10;
    for (let i = 0; i < N; i++) await a.hub.say('#fan', 'a1', `m${i}`, i);
    await waitUntil(() => a.hub.stats().received.room - before[0]! === N && b.hub.stats().received.room - before[1]! === N, 5_000, 'both hosts got every message');
    await settle();
    expect([a, b, c].map((h, i) => h.hub.stats().received.room - before[i]!)).toEqual([N, N, 0]);
    // A: reactor 1 (a2; a1 is the sender) and reactor 2 (a3) — one event each; B: one for its reactor.
    expect(kinds(a, 'room').length - events[0]!).toBe(2 * N);
    expect(kinds(b, 'room').length - events[1]!).toBe(N);
    expect(kinds(c, 'room').length - events[2]!).toBe(0);

    // When its last local member leaves, a host stops listening to the room.
    await b.hub.leave('#fan', 'b1', 1, 1);
    await b.hub.leave('#fan', 'b2', 1, 1);
    await waitUntil(async () => ((await admin.pubsub('NUMSUB', channels.room('#fan'))) as [string, number])[1] === 1, 5_000, 'B unsubscribed');
  });

  it('holds the WIZZ limit across hosts and records only delivered wizzes', async () => {
    const [a, b, c] = await cluster();
    await b.hub.claim('bob', 4, 1);
    const t0 = 1_700_000_000_000;
    expect(await a.hub.wizz('alice', 'bob', t0)).toBe('delivered');
    expect(await c.hub.wizz('alice', 'bob', t0 + 1_000)).toBe('rate_limited'); // alice moved to C: still limited
    expect(await a.hub.wizz('carol', 'bob', t0 + 1_000)).toBe('delivered'); // per sender→recipient
    expect(await c.hub.wizz('alice', 'bob', t0 + 5_000)).toBe('delivered');
    expect(await a.hub.wizz('alice', 'dan', t0)).toBe('offline');
    await c.hub.claim('dan', 1, 2);
    expect(await a.hub.wizz('alice', 'dan', t0 + 1)).toBe('delivered'); // the offline attempt was not recorded
    await waitUntil(() => kinds(b, 'wizzed').length === 3 && kinds(c, 'wizzed').length === 1, 5_000, 'the wizzes arrived');
    expect(kinds(b, 'wizzed')).toEqual([
      { reactor: 4, ev: { e: 'wizzed', to: 'bob', from: 'alice', ts: t0 } },
      { reactor: 4, ev: { e: 'wizzed', to: 'bob', from: 'carol', ts: t0 + 1_000 } },
      { reactor: 4, ev: { e: 'wizzed', to: 'bob', from: 'alice', ts: t0 + 5_000 } },
    ]);
    expect(a.events).toEqual([]);
  });
});

describe('failures', () => {
  it('reaps a host that stops renewing its lease: its users go offline, its rooms hear them leave, they log in elsewhere at once', async () => {
    // A lease of 1 s: after the halt A's lease still holds for ≥ 2/3 s, time for C's claim below.
    const [a, b, c] = await cluster({ leaseMs: 1_000 });
    await a.hub.claim('alice', 1, 1);
    await a.hub.claim('dora', 1, 2);
    await b.hub.claim('bob', 1, 3);
    await a.hub.join('#r', 'alice', 1, 1);
    await a.hub.join('#r', 'dora', 1, 2);
    await b.hub.join('#r', 'bob', 1, 3);
    await waitUntil(() => kinds(b, 'presence').length === 0 && kinds(a, 'presence').length === 2, 5_000, 'the joins were announced');

    a.hub.halt(); // as kill -9: no release, no lease renewal
    // dora logs in on C at once, before anyone noticed A is gone: the claim wins.
    await c.hub.claim('dora', 2, 4);
    expect(await c.hub.who(undefined, 10)).toEqual(['alice', 'bob', 'dora']);

    const haltedAt = Date.now();
    await waitUntil(async () => !(await b.hub.who(undefined, 10)).includes('alice'), 5_000, "alice's presence expired");
    expect(Date.now() - haltedAt).toBeLessThan(6_000); // lease 1 s + a reaper pass every 0.5 s (+ a loaded machine)
    expect(await b.hub.who(undefined, 10)).toEqual(['bob', 'dora']); // dora logged in elsewhere since: left alone
    expect(await b.hub.who('#r', 10)).toEqual(['bob']);
    await waitUntil(() => kinds(b, 'presence').length === 2, 5_000, 'B heard alice and dora leave');
    expect(kinds(b, 'presence').map((x) => x.ev)).toEqual([
      { e: 'presence', room: '#r', user: 'dora', event: 'leave' }, // when C's claim replaced her
      { e: 'presence', room: '#r', user: 'alice', event: 'leave' }, // when A was reaped
    ]);
    expect(b.hub.stats().reaped + c.hub.stats().reaped).toBe(1); // one host reaped A, once
    expect(await admin.sismember(keys.nodes, a.hub.nodeId)).toBe(0);
    await b.hub.claim('alice', 1, 5); // and alice may log in again
    expect(await c.hub.who(undefined, 10)).toEqual(['alice', 'bob', 'dora']);
  });

  it('while Redis is down every call fails fast with unavailable; after a restart the hosts resynchronise', async () => {
    // A long command timeout: a call that waited for Redis instead of failing at once would show.
    const [a, b, c] = await cluster({ leaseMs: 1_500, commandTimeoutMs: 5_000 });
    await a.hub.claim('alice', 1, 1);
    await b.hub.claim('bob', 1, 2);
    await c.hub.claim('carol', 1, 3);
    await a.hub.join('#r', 'alice', 1, 1);
    await b.hub.join('#r', 'bob', 1, 2);
    const fencesBefore = await Promise.all(['alice', 'bob', 'carol'].map(async (u) => Number(await admin.hget(keys.owner(u), 'fence'))));

    await redis.kill();
    await waitUntil(() => [a, b, c].every((h) => !h.hub.available), 5_000, 'every host saw Redis go');
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['say', () => a.hub.say('#r', 'alice', 'lost?', 1)],
      ['wizz', () => a.hub.wizz('alice', 'bob', 1)],
      ['join', () => a.hub.join('#s', 'alice', 1, 1)],
      ['leave', () => a.hub.leave('#r', 'alice', 1, 1)],
      ['who', () => a.hub.who(undefined, 10)],
      ['who room', () => a.hub.who('#r', 10)],
      ['claim', () => a.hub.claim('erin', 1, 9)],
    ];
    for (const [name, call] of calls) {
      const t = Date.now();
      const err = await refusal(call());
      expect({ name, code: err.code }).toEqual({ name, code: 'unavailable' });
      expect(Date.now() - t, name).toBeLessThan(2_500); // half the command timeout: it did not wait for Redis
    }
    await a.hub.deliver({ msgId: 1, from: 'bob', to: 'alice', text: 'kept in the store', ts: 1 }); // resolves: the store keeps it
    expect(a.hub.localOnline).toBe(1);

    await redis.restart(); // empty: everything Redis knew is gone
    const everyone = ['alice', 'bob', 'carol'];
    await waitUntil(async () => {
      if (![a, b, c].every((h) => h.hub.available)) return false;
      const seen = await Promise.all([a, b, c].map((h) => h.hub.who(undefined, 10).catch(() => [])));
      return seen.every((names) => names.join() === everyone.join());
    }, 10_000, 'every host sees everyone online again');
    expect(await c.hub.who('#r', 10)).toEqual(['alice', 'bob']);
    expect(a.hub.stats().resyncs).toBeGreaterThanOrEqual(2); // at start, and after the restart

    // Rooms work again, across hosts (once B's subscriber has subscribed again: room messages are
    // at-most-once, so say again until one arrives).
    const roomBefore = kinds(b, 'room').length;
    await waitUntil(async () => {
      await a.hub.say('#r', 'alice', 'back', 2);
      await sleep(100);
      return kinds(b, 'room').length > roomBefore;
    }, 5_000, 'B got a SAY');
    // Fences are not reused: a claim now gets a higher fence than any held before the restart...
    await c.hub.claim('erin', 1, 10);
    expect(Number(await admin.hget(keys.owner('erin'), 'fence'))).toBeGreaterThan(Math.max(...fencesBefore));
    // ...so a new login of alice on B replaces A's session, and A cannot take her back.
    await b.hub.claim('alice', 2, 11);
    await waitUntil(() => kinds(a, 'replace').length === 1, 5_000, 'A heard replace');
    expect(kinds(a, 'replace')[0]).toEqual({ reactor: 1, ev: { e: 'replace', user: 'alice', session: 1 } });
    expect(await admin.hget(keys.owner('alice'), 'node')).toBe(b.hub.nodeId);
  });

  it('fences handed out after a Redis restart exceed every fence handed out before, even before any host re-registered', async () => {
    const [a, b] = await cluster();
    await a.hub.claim('alice', 1, 1);
    const held = Number(await admin.hget(keys.owner('alice'), 'fence'));
    a.hub.halt(); // A will never re-register alice: only the counter's own start can keep fences fresh
    await redis.restart();
    await waitUntil(() => b.hub.available, 5_000, 'B reconnected');
    await b.hub.claim('carl', 1, 2);
    expect(Number(await admin.hget(keys.owner('carl'), 'fence'))).toBeGreaterThan(held);
  });

  it('fences stay above every earlier one across a Redis restart even after a burst of claims outran any counter', async () => {
    const [a, b] = await cluster();
    // Thousands of claims in a few hundred ms: a counter seeded from a coarse clock would now be ahead of that clock.
    const burst = Array.from({ length: 8_000 }, (_, i) => `burst_${i}`);
    await Promise.all(burst.map((u, i) => a.hub.claim(u, 1, 100 + i)));
    await a.hub.claim('wanda', 1, 1);
    const held = Number(await admin.hget(keys.owner('wanda'), 'fence'));
    a.hub.halt(); // A is paused: it cannot re-register wanda before B's claim
    await redis.restart();
    await waitUntil(() => b.hub.available, 5_000, 'B reconnected');
    await b.hub.claim('wanda', 1, 2); // the newest LOGIN
    expect(Number(await admin.hget(keys.owner('wanda'), 'fence'))).toBeGreaterThan(held);
    // A comes back and re-registers what it held: it must lose wanda, not take her back.
    const again = await startHost(a.hub.nodeId, {});
    expect(again.hub.localOnline).toBe(0);
    expect(await admin.hget(keys.owner('wanda'), 'node')).toBe(b.hub.nodeId);
  });

  it('a session that ends while its claim is in flight leaves no ghost: not online, no keys left', async () => {
    const [a, b] = await cluster();
    const users = Array.from({ length: 300 }, (_, i) => `ghost_${i}`);
    // The release is posted right after the claim, before its answer (a client that closes right after LOGIN).
    const claims = users.map((u, i) => {
      const c = a.hub.claim(u, 1, i + 1);
      void a.hub.release(u, 1, i + 1);
      return c;
    });
    await Promise.all(claims);
    await waitUntil(async () => (await b.hub.who(undefined, 1_000)).length === 0, 5_000, 'no user online');
    expect(a.hub.localOnline).toBe(0);
    expect(await admin.keys('wizz:u:*')).toEqual([]);
    expect(await admin.scard(keys.nodeUsers(a.hub.nodeId))).toBe(0);
  });

  it('a claim refused with unavailable (Redis stalled past the command timeout) does not take effect when Redis resumes', async () => {
    const [a, b] = await cluster({ commandTimeoutMs: 300 });
    await b.hub.claim('vera', 1, 1); // an older session elsewhere
    process.kill(redis.pid!, 'SIGSTOP');
    let refused: LinkError;
    try {
      refused = await refusal(a.hub.claim('vera', 1, 2));
    } finally {
      process.kill(redis.pid!, 'SIGCONT');
    }
    expect(refused.code).toBe('unavailable');
    await a.hub.release('vera', 1, 2); // what the reactor does after a failed LOGIN
    await settle();
    // The stalled claim ran when Redis resumed, and was undone right after: vera is not online on A.
    await waitUntil(async () => (await admin.hget(keys.owner('vera'), 'node')) !== a.hub.nodeId, 5_000, 'no owner record names A');
    expect(await admin.sismember(keys.nodeUsers(a.hub.nodeId), 'vera')).toBe(0);
    expect(a.hub.localOnline).toBe(0);
  });

  it('Redis frozen for longer than a lease takes no live host for dead: nobody is reaped, everyone stays online', async () => {
    const [a, b, c] = await cluster({ leaseMs: 2_000, commandTimeoutMs: 500 });
    await a.hub.claim('alice', 1, 1);
    await b.hub.claim('bob', 1, 2);
    await c.hub.claim('carol', 1, 3);
    await a.hub.join('#r', 'alice', 1, 1);
    await b.hub.join('#r', 'bob', 1, 2);
    process.kill(redis.pid!, 'SIGSTOP');
    // A reaper's pass that reaches Redis first when it wakes (from another host: the order in
    // which Redis serves the waiting connections is its own).
    const reap = REAP.run(admin, ['a-fourth-host', 1_000, 2_000]);
    await sleep(3_000); // longer than a lease: every lease expires meanwhile, by Redis's clock
    process.kill(redis.pid!, 'SIGCONT');
    expect(await reap).toEqual([]);
    await sleep(2_500); // more than a lease: any reaping would have happened
    expect([a, b, c].map((h) => h.hub.stats().reaped)).toEqual([0, 0, 0]);
    expect(await c.hub.who(undefined, 10)).toEqual(['alice', 'bob', 'carol']);
    expect(await c.hub.who('#r', 10)).toEqual(['alice', 'bob']);
    expect(kinds(a, 'presence')).toEqual([{ reactor: 1, ev: { e: 'presence', room: '#r', user: 'bob', event: 'join' } }]);
  });

  it('the reaper spares hosts whose leases ran out while Redis itself heard from nobody (a stall), and reaps them once they had a lease to beat again', async () => {
    // Two hosts that registered leases (1 s) and a user each; then Redis hears nothing for 3 s.
    for (const [node, user] of [['x', 'xavier'], ['y', 'yolanda']]) {
      await admin.set(keys.lease(node), '1', 'PX', 1_000);
      await admin.sadd(keys.nodes, node);
      await admin.sadd(keys.nodeUsers(node), user);
      await admin.hset(keys.owner(user), 'node', node, 'reactor', '1', 'session', '1', 'fence', '1');
      await admin.zadd(keys.online, 0, user);
    }
    const [seconds] = (await admin.time()) as unknown as [string, string];
    await admin.set(keys.lastBeat, String(Number(seconds) * 1000 - 3_000));
    await sleep(1_100); // both leases gone
    expect(await REAP.run(admin, ['z', 100, 1_000])).toEqual([]); // the first pass after the gap: grace
    expect(await admin.zrange(keys.online, '0', '-1')).toEqual(['xavier', 'yolanda']);
    // The reaper's host beats as usual (every third of a lease); x and y never do: after the grace
    // (one lease) they are dead.
    for (let i = 0; i < 4; i++) {
      await sleep(300);
      await HEARTBEAT.run(admin, ['z', 1_000]);
    }
    const out = (await REAP.run(admin, ['z', 100, 1_000])) as Array<string | number>;
    expect([out.slice(0, 3), out.slice(3)].sort((p, q) => String(p[0]).localeCompare(String(q[0])))).toEqual([['x', 1, 0], ['y', 1, 0]]);
    expect(await admin.exists(keys.reaped('x'))).toBe(1);
  });

  it('a host whose users were reaped re-registers them at its next heartbeat, even though its lease is there again', async () => {
    const [a, b] = await cluster({ leaseMs: 1_500 });
    await a.hub.claim('alice', 1, 1);
    await a.hub.join('#r', 'alice', 1, 1);
    // What a reaper leaves when a heartbeat queued during a stall renewed the lease after the reap
    // and nobody heard its answer: users gone, the lease present, the marker set.
    await admin.del(keys.owner('alice'));
    await admin.zrem(keys.online, 'alice');
    await admin.zrem(keys.room('#r'), 'alice');
    await admin.srem(keys.nodeUsers(a.hub.nodeId), 'alice');
    await admin.set(keys.reaped(a.hub.nodeId), '12345');
    await waitUntil(async () => (await b.hub.who(undefined, 10)).join() === 'alice', 5_000, 'alice is online again');
    expect(await b.hub.who('#r', 10)).toEqual(['alice']);
    await waitUntil(async () => (await admin.exists(keys.reaped(a.hub.nodeId))) === 0, 3_000, 'the marker is cleared');
  });

  it('JOIN, LEAVE, SAY and WIZZ answered unavailable while Redis is frozen never take effect afterwards', async () => {
    const [a, b] = await cluster({ commandTimeoutMs: 400 });
    await a.hub.claim('alice', 1, 1);
    await b.hub.claim('bob', 1, 2);
    await a.hub.join('#stay', 'alice', 1, 1);
    await b.hub.join('#stay', 'bob', 1, 2);
    await settle();
    const before = { a: a.events.length, b: b.events.length };
    process.kill(redis.pid!, 'SIGSTOP');
    let codes: string[];
    try {
      codes = await Promise.all([
        refusal(a.hub.join('#new', 'alice', 1, 1)),
        refusal(b.hub.leave('#stay', 'bob', 1, 2)),
        refusal(a.hub.say('#stay', 'alice', 'heard after all?', 1)),
        refusal(a.hub.wizz('alice', 'bob', 1)),
      ]).then((errs) => errs.map((e) => e.code));
      await sleep(600); // past every deadline, still frozen
    } finally {
      process.kill(redis.pid!, 'SIGCONT');
    }
    expect(codes).toEqual(['unavailable', 'unavailable', 'unavailable', 'unavailable']);
    await settle();
    await settle();
    expect(await a.hub.who('#new', 10)).toEqual([]);
    expect(await a.hub.who('#stay', 10)).toEqual(['alice', 'bob']);
    expect(a.events.slice(before.a)).toEqual([]); // no PRESENCE leave of bob
    expect(b.events.slice(before.b)).toEqual([]); // no ROOM, no WIZZED
    // And they all work once Redis answers again.
    await a.hub.say('#stay', 'alice', 'now', 2);
    await waitUntil(() => kinds(b, 'room').length === 1, 3_000, 'B got the SAY');
  });

  it('a host that missed a replace while its subscriber was disconnected learns it when it resyncs', async () => {
    const [a, b] = await cluster();
    await a.hub.claim('alice', 1, 1);
    await a.hub.join('#r', 'alice', 1, 1);
    const clients = String(await admin.client('LIST'));
    const id = /id=(\d+) .*name=(\S+)/g;
    const subId = [...clients.matchAll(id)].find((m) => m[2] === `wizz-${a.hub.nodeId}-sub`)?.[1];
    expect(subId).toBeDefined();
    await admin.client('KILL', 'ID', subId!);
    await b.hub.claim('alice', 2, 2); // its replace is published while A's subscriber is away
    await waitUntil(() => kinds(a, 'replace').length === 1, 5_000, 'A handed over the replace');
    expect(kinds(a, 'replace')[0]).toEqual({ reactor: 1, ev: { e: 'replace', user: 'alice', session: 1 } });
    expect(a.hub.localOnline).toBe(0);
    await waitUntil(() => a.hub.stats().roomChannels === 0, 5_000, 'A left the room channel');
    expect(await admin.hget(keys.owner('alice'), 'node')).toBe(b.hub.nodeId);
    expect(await b.hub.who('#r', 10)).toEqual([]);
  });

  it('what could not be told to Redis is repaired when the host resyncs', async () => {
    const [a, b] = await cluster();
    await a.hub.claim('alice', 1, 1);
    await a.hub.claim('amy', 1, 2);
    await b.hub.claim('bob', 1, 3);
    await b.hub.join('#r', 'bob', 1, 3);
    // A JOIN of alice that Redis ran but whose answer never came back (a command timeout).
    await admin.zadd(keys.room('#ghost'), 0, 'alice');
    await admin.sadd(keys.userRooms('alice'), '#ghost');
    await a.hub.join('#r', 'alice', 1, 1);

    const down = new Promise<void>((resolve) => a.hub.once('down', () => {
      // amy logs out while A's command connection is away: Redis is not told.
      void a.hub.release('amy', 1, 2);
      resolve();
    }));
    const clients = String(await admin.client('LIST'));
    const cmdId = [...clients.matchAll(/id=(\d+) .*name=(\S+)/g)].find((m) => m[2] === `wizz-${a.hub.nodeId}`)?.[1];
    await admin.client('KILL', 'ID', cmdId!);
    await Promise.race([down, sleep(5_000)]);
    expect(a.hub.localOnline).toBe(1);
    const resyncs = a.hub.stats().resyncs;
    await waitUntil(() => a.hub.stats().resyncs > resyncs, 5_000, 'A resynced');
    expect(await b.hub.who(undefined, 10)).toEqual(['alice', 'bob']);
    expect(await b.hub.who('#ghost', 10)).toEqual([]);
    expect(await b.hub.who('#r', 10)).toEqual(['alice', 'bob']);
  });

  it('a host restarted under the same node id drops what its previous run left in Redis', async () => {
    const [a, b] = await cluster({ leaseMs: 60_000 }); // the old lease is still valid: no reaper helps
    await a.hub.claim('alice', 1, 1);
    await a.hub.join('#r', 'alice', 1, 1);
    a.hub.halt();
    const again = await startHost(a.hub.nodeId, { leaseMs: 60_000 });
    expect(again.hub.localOnline).toBe(0);
    expect(await b.hub.who(undefined, 10)).toEqual([]);
    expect(await b.hub.who('#r', 10)).toEqual([]);
  });

  it('start() fails with unavailable when Redis cannot be reached, leaving nothing running', async () => {
    const hub = new RedisHub({ url: 'redis://127.0.0.1:1', nodeId: 'nowhere', emit: () => {}, connectTimeoutMs: 300 });
    const t = Date.now();
    expect((await refusal(hub.start())).code).toBe('unavailable');
    expect(Date.now() - t).toBeLessThan(8_000); // gave up (connectTimeoutMs 300; generous for a loaded machine)
    expect(hub.available).toBe(false);
  });

  it('close() lets the other hosts take its users offline at once', async () => {
    const [a, b] = await cluster({ leaseMs: 2_000 }); // a reaper pass every second
    await a.hub.claim('alice', 1, 1);
    const closing = Date.now();
    await a.hub.close();
    expect(a.hub.available).toBe(false);
    expect(await admin.exists(keys.lease(a.hub.nodeId))).toBe(0); // no waiting for it to expire
    await waitUntil(async () => (await b.hub.who(undefined, 10)).length === 0, 5_000, 'alice is offline');
    expect(Date.now() - closing).toBeLessThan(6_000); // the next reaper pass (every second)
  });
});
