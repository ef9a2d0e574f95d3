// Many hosts acting as one (issue 14), through real TCP clients: three wizz hosts that know nothing
// of each other except a throwaway redis-server and PostgreSQL, each host in its own network
// namespace (or on its own 127.0.0.x address; the log says which). DMs, rooms, WHO, sessions and the
// WIZZ limit across hosts; then the faults: a host killed with -9, Redis restarted, PostgreSQL
// stopped. Two looks behind the clients: the messages table (an acknowledged DM is committed) and
// PUBSUB NUMSUB (one room subscription per host, not per member). One cluster for the file
// (starting one costs seconds); every wait is bounded.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import pg from 'pg';
import { startCluster, type Cluster, type ClusterHost } from '../testing/cluster.ts';
import { WizzClient } from '../client/wizz-client.ts';
import { Req, Srv } from '../protocol/codes.ts';
import type { Frame } from '../protocol/frame.ts';
import { eventually, PASSWORD, uniqueUser } from '../testing/helpers.ts';
import { channels } from '../cluster/keys.ts';

const LEASE_S = 2;
/** A dead host's users are gone after its lease, plus one check (every lease/2), plus slack for a busy machine. */
const EXPIRY_BOUND_MS = LEASE_S * 1_500 + 2_000;
/** "Quickly": a request that needs an engine that is down is answered within this. */
const FAIL_FAST_MS = 6_000;
const T = { timeout: 30_000 };

let cluster: Cluster;
let hosts: ClusterHost[];
const clients: WizzClient[] = [];

interface Session {
  c: WizzClient;
  user: string;
  host: ClusterHost;
  login: Record<string, unknown>;
}

async function connect(host: ClusterHost): Promise<WizzClient> {
  const c = await host.connect();
  clients.push(c);
  return c;
}

async function register(host: ClusterHost, user = uniqueUser('c')): Promise<string> {
  const c = await connect(host);
  await c.call(Req.REGISTER, { user, password: PASSWORD });
  await c.close();
  return user;
}

async function login(host: ClusterHost, user: string): Promise<Session> {
  const c = await connect(host);
  const reply = await c.call(Req.LOGIN, { user, password: PASSWORD });
  return { c, user, host, login: reply };
}

/** A new user, registered on `registerAt` and logged in on `host`. */
async function newUser(host: ClusterHost, registerAt = host): Promise<Session> {
  return login(host, await register(registerAt));
}

/** The error code a request got, or 'ok'. */
async function outcome(c: WizzClient, type: number, body: Record<string, unknown>, timeoutMs = 15_000): Promise<string> {
  const reply = await c.request(type, body, timeoutMs);
  return reply.type === Srv.OK ? 'ok' : String(reply.body.code);
}

async function who(c: WizzClient, room?: string): Promise<string[]> {
  return (await c.call(Req.WHO, room ? { room } : {})).users as string[];
}

/** `p`, or a failure naming what did not happen within `ms`. */
function within<X>(p: Promise<X>, ms: number, what: string): Promise<X> {
  let timer: NodeJS.Timeout;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

let rooms = 0;
const newRoom = () => `#c${process.pid % 10_000}_${++rooms}`;

const message = (from: string, msgId?: unknown) => (f: Frame) => f.type === Srv.MESSAGE && f.body.from === from && (msgId === undefined || f.body.msgId === msgId);
const presence = (room: string, user: string, event: 'join' | 'leave') => (f: Frame) =>
  f.type === Srv.PRESENCE && f.body.room === room && f.body.user === user && f.body.event === event;
const roomFrame = (room: string, from: string) => (f: Frame) => f.type === Srv.ROOM && f.body.room === room && f.body.from === from;
const sorted = (xs: string[]) => [...xs].sort();

beforeAll(async () => {
  // WIZZ_CLUSTER_NETWORK=loopback tries the fallback (127.0.0.x) where netns would work.
  cluster = await startCluster({ hosts: 3, leaseS: LEASE_S, network: process.env.WIZZ_CLUSTER_NETWORK === 'loopback' ? 'loopback' : 'auto' });
  hosts = cluster.hosts;
  console.log(`[cluster] ${cluster.description}`);
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await cluster?.stopAll();
}, 30_000);

beforeEach(({ onTestFailed }) => {
  onTestFailed(() => console.log(`[cluster] hosts' output at the failure:\n${cluster?.output().slice(-6_000)}`));
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe.sequential('many hosts on Redis and PostgreSQL', () => {
  describe('direct messages across hosts', () => {
    it('a DM to a user on another host is committed to PostgreSQL before its OK and delivered live, between every pair of hosts', T, async () => {
      // Each user registers on the next host and logs in on its own: accounts are shared.
      const users = await Promise.all(hosts.map((h, i) => newUser(h, hosts[(i + 1) % hosts.length])));
      // The store, read directly: a row is visible to another connection only once committed.
      const db = new pg.Client({ connectionString: cluster.postgres.url });
      await db.connect();
      try {
        for (const from of users) {
          for (const to of users) {
            if (from === to) continue;
            const text = `${from.host.name} → ${to.host.name}`;
            const ok = await from.c.call(Req.SEND, { to: to.user, text });
            const { rows } = await db.query('SELECT sender, recipient FROM messages WHERE id = $1', [ok.msgId]);
            expect(rows, `message ${ok.msgId} acknowledged but not committed`).toEqual([{ sender: from.user, recipient: to.user }]);
            const got = await to.c.nextPush(message(from.user, ok.msgId), 5_000);
            expect(got.body).toMatchObject({ msgId: ok.msgId, from: from.user, to: to.user, text, ts: ok.ts });
          }
        }
      } finally {
        await db.end();
      }
    });

    it('a DM to a user offline everywhere is delivered at the next LOGIN on any host, and only once', T, async () => {
      const alice = await newUser(hosts[0]!);
      const carol = await register(hosts[1]!);
      const sent: unknown[] = [];
      for (let i = 0; i < 3; i++) sent.push((await alice.c.call(Req.SEND, { to: carol, text: `offline ${i}` })).msgId);
      const first = await login(hosts[2]!, carol);
      expect(first.login.pending).toBe(3);
      for (const id of sent) expect((await first.c.nextPush((f) => f.type === Srv.MESSAGE, 5_000)).body.msgId).toBe(id);
      await first.c.close();
      // They are marked delivered for every host (the marks are batched): a LOGIN elsewhere finds none.
      await eventually(async () => {
        const again = await login(hosts[1]!, carol);
        await again.c.close();
        return again.login.pending === 0;
      }, 5_000);

      // Offline again: the next one waits for her next LOGIN, on yet another host, alone.
      const later = (await alice.c.call(Req.SEND, { to: carol, text: 'after she left' })).msgId;
      const last = await login(hosts[0]!, carol);
      expect(last.login.pending).toBe(1);
      expect((await last.c.nextPush((f) => f.type === Srv.MESSAGE, 5_000)).body.msgId).toBe(later);
    });

    it('HISTORY is the same from every host', T, async () => {
      const alice = await newUser(hosts[0]!);
      const bob = await newUser(hosts[1]!);
      const ids: number[] = [];
      for (let i = 0; i < 6; i++) {
        const [from, to] = i % 2 === 0 ? [alice, bob] : [bob, alice];
        ids.push((await from.c.call(Req.SEND, { to: to.user, text: `h${i}` })).msgId as number);
      }
      await Promise.all([alice.c.close(), bob.c.close()]);
      const newestFirst = [...ids].sort((a, b) => b - a);
      for (const host of hosts) {
        for (const [me, other] of [
          [alice.user, bob.user],
          [bob.user, alice.user],
        ] as const) {
          const s = await login(host, me);
          const all = (await s.c.call(Req.HISTORY, { with: other })).messages as Array<{ msgId: number; text: string }>;
          expect(all.map((m) => m.msgId), `${me} on ${host.name}`).toEqual(newestFirst);
          expect(all.map((m) => m.text)).toEqual(['h5', 'h4', 'h3', 'h2', 'h1', 'h0']);
          const page = (await s.c.call(Req.HISTORY, { with: other, before: newestFirst[1], limit: 2 })).messages as Array<{ msgId: number }>;
          expect(page.map((m) => m.msgId)).toEqual(newestFirst.slice(2, 4));
          await s.c.close();
        }
      }
    });
  });

  describe('rooms and WHO across hosts', () => {
    it('JOIN, PRESENCE, SAY and LEAVE reach the members on every host; the sender gets no copy', T, async () => {
      const [a, b, c] = await Promise.all(hosts.map((h) => newUser(h)));
      const room = newRoom();
      expect((await a!.c.call(Req.JOIN, { room })).members).toEqual([a!.user]);
      expect((await b!.c.call(Req.JOIN, { room })).members).toEqual(sorted([a!.user, b!.user]));
      await a!.c.nextPush(presence(room, b!.user, 'join'), 5_000);
      expect((await c!.c.call(Req.JOIN, { room })).members).toEqual(sorted([a!.user, b!.user, c!.user]));
      await Promise.all([a!, b!].map((x) => x.c.nextPush(presence(room, c!.user, 'join'), 5_000)));

      const said = await b!.c.call(Req.SAY, { room, text: 'hello from b' });
      for (const x of [a!, c!]) {
        expect((await x.c.nextPush(roomFrame(room, b!.user), 5_000)).body).toEqual({ room, from: b!.user, text: 'hello from b', ts: said.ts });
      }
      await new Promise((r) => setTimeout(r, 200)); // b's host got its copy of the room message by now
      await b!.c.call(Req.PING);
      expect(b!.c.drainPushed().filter((f) => f.type === Srv.ROOM)).toEqual([]);

      await c!.c.call(Req.LEAVE, { room });
      await Promise.all([a!, b!].map((x) => x.c.nextPush(presence(room, c!.user, 'leave'), 5_000)));
      expect(await outcome(c!.c, Req.SAY, { room, text: 'gone' })).toBe('not_member');
      // Disconnecting leaves every room, announced on the other hosts too.
      await a!.c.close();
      await b!.c.nextPush(presence(room, a!.user, 'leave'), 5_000);
      expect(await who(c!.c, room)).toEqual([b!.user]);
    });

    it('each host subscribes once to a room it has members in, however many (one copy of each room message per host)', T, async () => {
      const room = newRoom();
      const [a1, a2, a3] = await Promise.all([0, 0, 0].map(() => newUser(hosts[0]!)));
      const b = await newUser(hosts[1]!);
      await newUser(hosts[2]!); // online, not a member: its host must not subscribe
      for (const x of [a1!, a2!, a3!, b]) await x.c.call(Req.JOIN, { room });
      const redis = new Redis(cluster.redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
      await redis.connect();
      try {
        const subscribers = async () => Number(((await redis.pubsub('NUMSUB', channels.room(room))) as [string, number])[1]);
        await eventually(async () => (await subscribers()) === 2, 5_000);
        await b.c.call(Req.SAY, { room, text: 'one copy for host-1' });
        for (const x of [a1!, a2!, a3!]) await x.c.nextPush(roomFrame(room, b.user), 5_000);
        // The last member on host-2 leaves: host-2 unsubscribes, host-1 stays.
        await b.c.call(Req.LEAVE, { room });
        await eventually(async () => (await subscribers()) === 1, 5_000);
      } finally {
        redis.disconnect();
      }
    });

    it('WHO lists the online users of every host, and a room\'s members, the same from every host', T, async () => {
      const users = await Promise.all(hosts.map((h) => newUser(h)));
      const names = users.map((u) => u.user);
      const room = newRoom();
      await users[0]!.c.call(Req.JOIN, { room });
      await users[2]!.c.call(Req.JOIN, { room });
      await eventually(async () => {
        const lists = await Promise.all(users.map((u) => who(u.c)));
        return lists.every((l) => JSON.stringify(l) === JSON.stringify(lists[0]));
      }, 5_000);
      for (const u of users) {
        const online = await who(u.c);
        expect(online, `WHO on ${u.host.name}`).toEqual(expect.arrayContaining(names));
        expect(online).toEqual(sorted(online));
        expect(await who(u.c, room), `WHO ${room} on ${u.host.name}`).toEqual(sorted([names[0]!, names[2]!]));
        expect(await who(u.c, newRoom())).toEqual([]);
      }
      // Gone from one host: gone for all.
      await users[1]!.c.close();
      await eventually(async () => !(await who(users[0]!.c)).includes(names[1]!) && !(await who(users[2]!.c)).includes(names[1]!), 5_000);
    });
  });

  describe('sessions and the WIZZ limit across hosts', () => {
    it('LOGIN on another host replaces the session: session_replaced at the first, its rooms announce the leave', T, async () => {
      const alice = await newUser(hosts[0]!);
      const bob = await newUser(hosts[2]!);
      const room = newRoom();
      await alice.c.call(Req.JOIN, { room });
      await bob.c.call(Req.JOIN, { room });
      const again = await login(hosts[1]!, alice.user);
      const replaced = await alice.c.nextPush((f) => f.type === Srv.ERROR, 5_000);
      expect(replaced.body.code).toBe('session_replaced');
      expect(replaced.body.re).toBeUndefined();
      await within(alice.c.closed, 5_000, 'the replaced connection closing');
      await bob.c.nextPush(presence(room, alice.user, 'leave'), 5_000);
      expect(await who(bob.c, room)).toEqual([bob.user]); // the new session starts in no rooms
      const dm = await bob.c.call(Req.SEND, { to: alice.user, text: 'where are you now?' });
      await again.c.nextPush(message(bob.user, dm.msgId), 5_000);
    });

    it('racing LOGINs of one user on three hosts leave exactly one session', T, async () => {
      const sender = await newUser(hosts[0]!);
      for (let round = 0; round < 4; round++) {
        const user = await register(hosts[round % 3]!);
        const conns = await Promise.all(hosts.map((h) => connect(h)));
        // A LOGIN replaced while in progress may be closed before its reply.
        const replies = await Promise.all(conns.map((c) => Promise.race([c.request(Req.LOGIN, { user, password: PASSWORD }, 10_000), c.closed.then(() => null)])));
        expect(replies.some((r) => r?.type === Srv.OK), `round ${round}: no LOGIN succeeded`).toBe(true);
        await eventually(() => conns.filter((c) => !c.isClosed).length <= 1, 5_000);
        await new Promise((r) => setTimeout(r, 300)); // a late replacement would show now
        const alive = conns.filter((c) => !c.isClosed);
        expect(alive, `round ${round}: sessions left open`).toHaveLength(1);
        for (const [i, c] of conns.entries()) {
          if (c === alive[0] || replies[i]?.type !== Srv.OK) continue;
          expect(c.drainPushed().some((f) => f.type === Srv.ERROR && f.body.code === 'session_replaced'), `round ${round}: a loser was closed without session_replaced`).toBe(true);
        }
        // The one left is the session: it gets DMs, and WHO lists the user.
        const dm = await sender.c.call(Req.SEND, { to: user, text: `round ${round}` });
        await alive[0]!.nextPush(message(sender.user, dm.msgId), 5_000);
        expect((await who(sender.c)).filter((u) => u === user)).toEqual([user]);
        await alive[0]!.close();
      }
    });

    it('the WIZZ limit (one per sender and recipient per 5 s) holds across hosts', T, async () => {
      const alice = await newUser(hosts[0]!);
      const bob = await newUser(hosts[1]!);
      const carol = await newUser(hosts[2]!);
      const firstAt = Date.now();
      await alice.c.call(Req.WIZZ, { to: bob.user });
      expect((await bob.c.nextPush((f) => f.type === Srv.WIZZED, 5_000)).body.from).toBe(alice.user);
      // alice moves to another host and tries again: still limited — if the move took less than the
      // 5 s window (a LOGIN hashes a password: on a machine loaded enough it could take longer).
      await alice.c.close();
      const moved = await login(hosts[2]!, alice.user);
      const again = await outcome(moved.c, Req.WIZZ, { to: bob.user });
      if (Date.now() - firstAt < 4_500) expect(again).toBe('rate_limited');
      else expect(['rate_limited', 'ok']).toContain(again);
      // The limit is per sender→recipient: others may, and bob may wizz back.
      await carol.c.call(Req.WIZZ, { to: bob.user });
      await bob.c.nextPush((f) => f.type === Srv.WIZZED && f.body.from === carol.user, 5_000);
      await bob.c.call(Req.WIZZ, { to: alice.user });
      expect((await moved.c.nextPush((f) => f.type === Srv.WIZZED, 5_000)).body.from).toBe(bob.user);
      // Online on another host is online; offline everywhere is offline (and does not count).
      const away = await register(hosts[0]!);
      expect(await outcome(bob.c, Req.WIZZ, { to: away })).toBe('offline');
      const back = await login(hosts[0]!, away);
      await bob.c.call(Req.WIZZ, { to: away });
      await back.c.nextPush((f) => f.type === Srv.WIZZED, 5_000);
    });
  });

  describe('faults', () => {
    it('a host killed with -9: its users log in elsewhere at once, their presence expires within the lease, rooms announce them as left, no acknowledged DM is lost', T, async () => {
      const [h1, h2, h3] = hosts as [ClusterHost, ClusterHost, ClusterHost];
      try {
        const room = newRoom();
        const erin = await newUser(h1);
        const hank = await newUser(h3, h2);
        const dave = await newUser(h3, h1);
        const gina = await register(h2);
        await erin.c.call(Req.JOIN, { room });
        await hank.c.call(Req.JOIN, { room });
        await erin.c.nextPush(presence(room, hank.user, 'join'), 5_000);

        // dave (on the host about to die) pipelines DMs to gina; the host dies after 50 OKs, some still in flight.
        const acked: number[] = [];
        const fifty = new Promise<void>((resolve) => {
          for (let i = 0; i < 120; i++) {
            dave.c
              .request(Req.SEND, { to: gina, text: `before the crash ${i}` }, 5_000)
              .then((r) => {
                if (r.type === Srv.OK) acked.push(r.body.msgId as number);
                if (acked.length === 50) resolve();
              })
              .catch(() => {}); // no reply: the host died first (not acknowledged, so not counted)
          }
        });
        await within(fifty, 10_000, '50 acknowledged DMs');
        const killedAt = Date.now();
        await h3.kill('SIGKILL');
        const ackedAtKill = [...acked];
        await within(Promise.all([hank.c.closed, dave.c.closed]), 5_000, 'the killed host\'s connections closing');

        // dave logs in elsewhere at once: no waiting for the lease.
        const dave2 = await login(h1, dave.user);
        expect(Date.now() - killedAt, 'LOGIN elsewhere had to wait for the lease').toBeLessThan(LEASE_S * 1_000);

        // hank does not come back: his presence expires, the room says he left.
        await erin.c.nextPush(presence(room, hank.user, 'leave'), EXPIRY_BOUND_MS);
        console.log(`[cluster] host-3's users were announced as left ${Date.now() - killedAt} ms after kill -9 (lease ${LEASE_S} s)`);
        for (const c of [erin.c, dave2.c]) {
          const online = await who(c);
          expect(online).not.toContain(hank.user);
          expect(online, 'the reaper took a user who had logged in elsewhere').toEqual(expect.arrayContaining([erin.user, dave.user]));
          expect(await who(c, room)).toEqual([erin.user]);
        }
        const dm = await erin.c.call(Req.SEND, { to: dave.user, text: 'welcome back' });
        await dave2.c.nextPush(message(erin.user, dm.msgId), 5_000);

        // Every DM acknowledged before the crash is there for gina, on another host.
        const g = await login(h2, gina);
        expect(g.login.pending as number).toBeGreaterThanOrEqual(ackedAtKill.length);
        const got = new Set<number>();
        for (let i = 0; i < (g.login.pending as number); i++) got.add((await g.c.nextPush((f) => f.type === Srv.MESSAGE, 5_000)).body.msgId as number);
        expect(ackedAtKill.filter((id) => !got.has(id)), 'acknowledged DMs lost').toEqual([]);
        expect(acked.filter((id) => !got.has(id)), 'acknowledged DMs lost').toEqual([]);
      } finally {
        if (!h3.running) await h3.restart();
      }
    });

    it('Redis restarted: a SAY during the outage gets unavailable, DMs keep working from the store, and presence, rooms and routing resume', T, async () => {
      const [h1, h2, h3] = hosts as [ClusterHost, ClusterHost, ClusterHost];
      const ann = await newUser(h1);
      const ben = await newUser(h2);
      const cat = await newUser(h3);
      const room = newRoom();
      await ann.c.call(Req.JOIN, { room });
      await ben.c.call(Req.JOIN, { room });
      await ann.c.nextPush(presence(room, ben.user, 'join'), 5_000);

      // Redis dies (SIGKILL: all its state is lost when it comes back).
      process.kill(cluster.redis.pid!, 'SIGKILL');
      let during: Record<string, unknown>;
      try {
        await new Promise((r) => setTimeout(r, 200));
        const t0 = Date.now();
        expect(await outcome(ann.c, Req.SAY, { room, text: 'into the void' }, FAIL_FAST_MS + 2_000)).toBe('unavailable');
        expect(Date.now() - t0).toBeLessThan(FAIL_FAST_MS);
        during = await ann.c.call(Req.SEND, { to: ben.user, text: 'sent while Redis was down' }, FAIL_FAST_MS + 2_000);
        expect(Date.now() - t0).toBeLessThan(FAIL_FAST_MS * 2);
      } finally {
        await cluster.redis.restart(); // empty, on the same port
      }
      // The hosts reconnect and re-register what they hold: WHO and room members come back everywhere.
      await eventually(async () => {
        const lists = await Promise.all([ann, ben, cat].map((s) => s.c.request(Req.WHO, {}, 3_000)));
        return lists.every((r) => r.type === Srv.OK && [ann.user, ben.user, cat.user].every((u) => (r.body.users as string[]).includes(u)));
      }, 10_000);
      for (const s of [ann, ben, cat]) expect(await who(s.c, room), `WHO ${room} on ${s.host.name}`).toEqual(sorted([ann.user, ben.user]));
      // Room messages are routed again (the hosts resubscribed).
      await eventually(async () => {
        if ((await outcome(ann.c, Req.SAY, { room, text: 'back' }, 3_000)) !== 'ok') return false;
        return ben.c.nextPush(roomFrame(room, ann.user), 1_000).then(
          () => true,
          () => false,
        );
      }, 10_000);
      // DMs are routed live again.
      const live = await cat.c.call(Req.SEND, { to: ann.user, text: 'live again' });
      await ann.c.nextPush(message(cat.user, live.msgId), 5_000);
      // The DM sent during the outage reached ben live, or reaches him at his next LOGIN.
      const gotLive = ben.c.drainPushed().some(message(ann.user, during.msgId));
      if (!gotLive) {
        await ben.c.close();
        const again = await login(h3, ben.user);
        expect(again.login.pending as number).toBeGreaterThanOrEqual(1);
        await again.c.nextPush(message(ann.user, during.msgId), 5_000);
      }
    });

    it('clients that close a few ms after sending LOGIN leave no ghost: nobody stays online, WIZZ to them is offline', T, async () => {
      const users: string[] = [];
      const setup = await connect(hosts[0]!);
      for (let i = 0; i < 250; i++) users.push(uniqueUser('g'));
      await Promise.all(users.map((user) => setup.call(Req.REGISTER, { user, password: PASSWORD })));
      // Each LOGIN is written, then the socket closes 0-8 ms later: the release races the claim.
      await Promise.all(users.map(async (user, i) => {
        const c = await hosts[i % hosts.length]!.connect();
        c.post(Req.LOGIN, { user, password: PASSWORD });
        await new Promise((r) => setTimeout(r, i % 9));
        await c.close();
      }));
      const watcher = await newUser(hosts[1]!);
      await eventually(async () => (await who(watcher.c)).every((u) => !users.includes(u)), 10_000);
      await new Promise((r) => setTimeout(r, 500)); // a late claim would show up now
      expect((await who(watcher.c)).filter((u) => users.includes(u))).toEqual([]);
      expect(await outcome(watcher.c, Req.WIZZ, { to: users[0]! })).toBe('offline');
      const redis = new Redis(cluster.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await redis.connect();
        const left = await Promise.all(users.map((u) => redis.exists(`wizz:u:${u}`)));
        expect(left.filter(Boolean).length, 'owner records left in Redis').toBe(0);
      } finally {
        redis.disconnect();
      }
    });

    it('the newest LOGIN wins after Redis restarts empty while the older session\'s host is frozen', T, async () => {
      const [h1, h2, h3] = hosts as [ClusterHost, ClusterHost, ClusterHost];
      const w = await register(h1);
      const old = await login(h2, w);
      const friend = await newUser(h1);
      h2.pause();
      let fresh: Session | undefined;
      try {
        await cluster.redis.restart(); // empty
        // The newest LOGIN, on h3, once h3 is connected to Redis again.
        const deadline = Date.now() + 15_000;
        while (!fresh && Date.now() < deadline) {
          const c = await connect(h3);
          const r = await c.request(Req.LOGIN, { user: w, password: PASSWORD }, 5_000);
          if (r.type === Srv.OK) fresh = { c, user: w, host: h3, login: r.body };
          else await new Promise((resolve) => setTimeout(resolve, 200));
        }
        expect(fresh, 'a LOGIN on h3 succeeded after the restart').toBeDefined();
      } finally {
        h2.resume();
      }
      // h2 re-registers what it held: its session is the older one and must be the one replaced.
      const replaced = await old.c.nextPush((f) => f.type === Srv.ERROR, 15_000);
      expect(replaced.body.code, 'the older session (h2) is the one replaced').toBe('session_replaced');
      await new Promise((r) => setTimeout(r, 500));
      expect(fresh!.c.drainPushed().filter((f) => f.type === Srv.ERROR), 'the newest session (h3) is not replaced').toEqual([]);
      await fresh!.c.call(Req.PING, {}, 5_000);
      const dm = await friend.c.call(Req.SEND, { to: w, text: 'which one gets this?' });
      await fresh!.c.nextPush(message(friend.user, dm.msgId), 5_000);
    });

    it('PostgreSQL stopped: requests that need it get unavailable quickly, nothing hangs, and service resumes when it is back', T, async () => {
      const [h1, h2, h3] = hosts as [ClusterHost, ClusterHost, ClusterHost];
      const ivy = await newUser(h1);
      const jay = await newUser(h2);
      const kim = await register(h3);
      const room = newRoom();
      await ivy.c.call(Req.JOIN, { room });
      await jay.c.call(Req.JOIN, { room });
      await ivy.c.nextPush(presence(room, jay.user, 'join'), 5_000);

      await cluster.postgres.kill();
      try {
        const t0 = Date.now();
        const timed = async (what: string, p: Promise<string>) => [what, await p, Date.now() - t0] as const;
        const [fresh, fresh2] = await Promise.all([connect(h3), connect(h2)]);
        const results = await Promise.all([
          timed('SEND', outcome(ivy.c, Req.SEND, { to: jay.user, text: 'while the store is down', key: 'pg-down-1' }, FAIL_FAST_MS + 5_000)),
          timed('HISTORY', outcome(jay.c, Req.HISTORY, { with: ivy.user }, FAIL_FAST_MS + 5_000)),
          timed('REGISTER', outcome(fresh, Req.REGISTER, { user: uniqueUser('c'), password: PASSWORD }, FAIL_FAST_MS + 5_000)),
          timed('LOGIN', outcome(fresh2, Req.LOGIN, { user: kim, password: PASSWORD }, FAIL_FAST_MS + 5_000)),
        ]);
        for (const [what, code, ms] of results) {
          expect(code, `${what} while PostgreSQL is down`).toBe('unavailable');
          expect(ms, `${what} took ${ms} ms to fail`).toBeLessThan(FAIL_FAST_MS);
        }
        // What does not need the store carries on.
        await ivy.c.call(Req.PING, {}, 2_000);
        await ivy.c.call(Req.SAY, { room, text: 'rooms do not need the store' }, 3_000);
        await jay.c.nextPush(roomFrame(room, ivy.user), 3_000);
        expect(await who(jay.c)).toEqual(expect.arrayContaining([ivy.user, jay.user]));
      } finally {
        await cluster.postgres.start();
      }
      // Back: the same SEND, retried with its key, is stored once and delivered.
      let sent: Record<string, unknown> | undefined;
      await eventually(async () => {
        const r = await ivy.c.request(Req.SEND, { to: jay.user, text: 'while the store is down', key: 'pg-down-1' }, 5_000);
        if (r.type === Srv.OK) sent = r.body;
        else await new Promise((resolve) => setTimeout(resolve, 200));
        return sent !== undefined;
      }, 15_000);
      await jay.c.nextPush(message(ivy.user, sent!.msgId), 5_000);
      const history = (await jay.c.call(Req.HISTORY, { with: ivy.user })).messages as Array<{ msgId: number }>;
      expect(history.map((m) => m.msgId)).toEqual([sent!.msgId]);
      expect((await login(h1, kim)).login.pending).toBe(0);
    });
  });
});
