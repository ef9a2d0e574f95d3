// Three hosts on a replicated Redis under Sentinel (redis+sentinel://), through real TCP clients:
// the Redis primary is killed (-9) while DMs and room messages flow. Sentinel promotes the replica;
// the hosts must follow it within seconds, lose no acknowledged DM (they live in PostgreSQL), store
// a DM retried with its key once, re-register who is online and in which room, and keep "the newest
// LOGIN wins". Every wait is bounded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type Cluster, type ClusterHost } from '../testing/cluster.ts';
import type { WizzClient } from '../client/wizz-client.ts';
import { Req, Srv } from '../protocol/codes.ts';
import { PASSWORD, uniqueUser } from '../testing/helpers.ts';

/** From the kill to cross-host routing again: Sentinel's down-after (1 s), its vote, the hosts' reconnect. */
const FOLLOW_WITHIN_MS = 15_000;

let cluster: Cluster;
const clients: WizzClient[] = [];

beforeAll(async () => {
  cluster = await startCluster({ hosts: 3, leaseS: 2, redis: 'sentinel' });
  console.log(`[cluster] ${cluster.description}; Redis ${cluster.sentinel!.url}`);
}, 60_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await cluster?.stopAll();
}, 30_000);

async function login(host: ClusterHost, user: string): Promise<WizzClient> {
  const c = await host.connect();
  clients.push(c);
  await c.call(Req.LOGIN, { user, password: PASSWORD });
  return c;
}

async function register(host: ClusterHost): Promise<string> {
  const user = uniqueUser('f');
  const c = await host.connect();
  await c.call(Req.REGISTER, { user, password: PASSWORD });
  await c.close();
  return user;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Redis failover under Sentinel, with three hosts', () => {
  it('the primary killed under traffic: the hosts follow the promoted replica within seconds, no acknowledged DM is lost or doubled, presence and rooms come back, the newest LOGIN wins', { timeout: 90_000 }, async () => {
    const [h1, h2, h3] = cluster.hosts as [ClusterHost, ClusterHost, ClusterHost];
    const [ann, ben, cal] = [await register(h1), await register(h2), await register(h3)];
    const a = await login(h1, ann);
    const b = await login(h2, ben);
    const c = await login(h3, cal);
    const room = `#fo${process.pid % 10_000}`;
    for (const x of [a, b, c]) await x.call(Req.JOIN, { room });

    // ann sends ben numbered DMs, each retried with its key until it gets an answer that is not
    // `unavailable` (what a careful client does); acknowledged ones are recorded.
    const acked = new Map<number, number>(); // n → msgId
    let sending = true;
    const sender = (async () => {
      for (let n = 0; sending && n < 400; n++) {
        for (let attempt = 0; attempt < 100; attempt++) {
          const r = await a.request(Req.SEND, { to: ben, text: `dm ${n}`, key: `k${n}` }, 10_000);
          if (r.type === Srv.OK) {
            acked.set(n, r.body.msgId as number);
            break;
          }
          expect(r.body.code).toBe('unavailable');
          await sleep(100);
        }
        await sleep(10);
      }
    })();
    await sleep(500);
    const killedAt = Date.now();
    const oldPrimary = await cluster.sentinel!.killPrimary();
    await cluster.sentinel!.waitForFailover(oldPrimary, FOLLOW_WITHIN_MS);

    // Room messages route across hosts again (every host resubscribed on the new primary).
    let followedAfter = -1;
    while (Date.now() - killedAt < FOLLOW_WITHIN_MS) {
      const said = await c.request(Req.SAY, { room, text: 'are we back?' }, 3_000);
      if (said.type === Srv.OK && (await a.nextPush((f) => f.type === Srv.ROOM && f.body.from === cal, 500).then(() => true, () => false))) {
        followedAfter = Date.now() - killedAt;
        break;
      }
      await sleep(200);
    }
    expect(followedAfter, 'cross-host routing came back').toBeGreaterThan(0);
    console.log(`[failover] routing across hosts again ${followedAfter} ms after the primary was killed`);
    sending = false;
    await sender;

    // Presence and membership were re-registered on the new primary, seen alike from every host.
    const everyone = [ann, ben, cal].sort().join();
    const views = async () =>
      Promise.all([a, b, c].map(async (x) => [
        ((await x.call(Req.WHO, {})).users as string[]).filter((u) => [ann, ben, cal].includes(u)).sort().join(),
        ((await x.call(Req.WHO, { room })).users as string[]).join(),
      ]));
    let seen = await views();
    const deadline = Date.now() + FOLLOW_WITHIN_MS;
    while (!seen.flat().every((v) => v === everyone) && Date.now() < deadline) {
      await sleep(200);
      seen = await views();
    }
    console.log(`[failover] WHO and room members complete ${Date.now() - killedAt} ms after the kill`);
    expect(seen).toEqual([[everyone, everyone], [everyone, everyone], [everyone, everyone]]);

    // Every acknowledged DM is stored exactly once and reaches ben, live or at his next LOGIN.
    const history = new Map<number, string>();
    let before: number | undefined;
    for (let page = 0; page < 20; page++) {
      const msgs = (await b.call(Req.HISTORY, { with: ann, limit: 100, ...(before ? { before } : {}) })).messages as Array<{ msgId: number; text: string }>;
      for (const m of msgs) {
        expect(history.has(m.msgId), `msgId ${m.msgId} listed twice`).toBe(false);
        history.set(m.msgId, m.text);
      }
      if (msgs.length < 100) break;
      before = msgs[msgs.length - 1]!.msgId;
    }
    const texts = [...history.values()];
    expect(new Set(texts).size, 'a DM retried with its key was stored twice').toBe(texts.length);
    for (const [n, msgId] of acked) expect(history.get(msgId), `acknowledged DM ${n}`).toBe(`dm ${n}`);
    const got = new Set(b.drainPushed().filter((f) => f.type === Srv.MESSAGE).map((f) => f.body.msgId as number));
    await b.close();
    const again = await h3.connect();
    clients.push(again);
    const relog = await again.call(Req.LOGIN, { user: ben, password: PASSWORD });
    for (let i = 0; i < (relog.pending as number); i++) got.add((await again.nextPush((f) => f.type === Srv.MESSAGE, 5_000)).body.msgId as number);
    for (const [n, msgId] of acked) expect(got.has(msgId), `acknowledged DM ${n} (msgId ${msgId}) never reached ben`).toBe(true);

    // The newest LOGIN wins: ann logs in on h2; her h1 session is the one replaced.
    const newest = await login(h2, ann);
    const replaced = await a.nextPush((f) => f.type === Srv.ERROR, 10_000);
    expect(replaced.body.code).toBe('session_replaced');
    await newest.call(Req.PING, {});
    expect(acked.size).toBeGreaterThan(10);
  });
});
