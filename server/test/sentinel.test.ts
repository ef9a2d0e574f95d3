// RedisHub on a replicated Redis watched by Sentinel (redis+sentinel://): the primary is killed,
// the sentinels promote the replica, and the hosts follow it by themselves — every call fails fast
// with `unavailable` meanwhile, everything they hold is re-registered on the new primary, and
// fences stay monotonic even when the promoted replica never received the newest claim
// (replication is asynchronous: a failover may lose the last writes). Three RedisHubs in this
// process, real redis-server nodes and sentinels started here; every wait is bounded.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startSentinelRedis, type SentinelRedis } from '../testing/sentinel.ts';
import { RedisHub } from '../cluster/redis-hub.ts';
import { redisTarget } from '../cluster/redis-target.ts';
import { keys } from '../cluster/keys.ts';
import type { RouteEvent } from '../router/router.ts';

let redis: SentinelRedis;
let live: RedisHub[] = [];

beforeAll(async () => {
  redis = await startSentinelRedis({ replicas: 1, sentinels: 3, downAfterMs: 1_000 });
}, 30_000);

afterEach(() => {
  for (const hub of live) hub.halt();
  live = [];
});

afterAll(async () => {
  await redis?.stop();
});

interface Host {
  hub: RedisHub;
  events: Array<{ reactor: number; ev: RouteEvent }>;
}

async function host(nodeId: string): Promise<Host> {
  const events: Host['events'] = [];
  const hub = new RedisHub({ url: redis.url, nodeId, emit: (reactor, ev) => events.push({ reactor, ev }), commandTimeoutMs: 1_000, leaseMs: 4_000 });
  live.push(hub);
  await hub.start();
  return { hub, events };
}

async function waitUntil(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await Promise.resolve().then(cond).catch(() => false)) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A plain connection to the data node on `port` (to read what it holds). */
async function node(port: number): Promise<Redis> {
  const r = new Redis({ host: redis.host, port, lazyConnect: true, maxRetriesPerRequest: 1 });
  r.on('error', () => {});
  await r.connect();
  return r;
}

describe('redis+sentinel:// URLs', () => {
  it('name the sentinels, the primary group and the passwords', () => {
    expect(redisTarget('redis://127.0.0.1:6379')).toEqual({ url: 'redis://127.0.0.1:6379', options: {} });
    expect(redisTarget('redis+sentinel://:s3cret@10.0.0.1:26379,10.0.0.2,[::1]:5/wizz?sentinelPassword=x').options).toEqual({
      sentinels: [{ host: '10.0.0.1', port: 26379 }, { host: '10.0.0.2', port: 26379 }, { host: '::1', port: 5 }],
      name: 'wizz',
      failoverDetector: true,
      password: 's3cret',
      sentinelPassword: 'x',
    });
    expect(() => redisTarget('redis+sentinel://10.0.0.1:26379')).toThrow(/primary's name/);
    expect(() => redisTarget('redis+sentinel:///wizz')).toThrow(/no sentinel/);
    expect(() => redisTarget('redis+sentinel://h:99999/wizz')).toThrow(/HOST:PORT/);
  });
});

describe('failover under Sentinel', () => {
  it('the primary killed: the hosts follow the promoted replica and re-register what they hold; a claim the replica never received is still beaten by the newest one', async () => {
    const [a, b, c] = [await host('s-a'), await host('s-b'), await host('s-c')];
    await b.hub.claim('bob', 1, 2);
    await c.hub.claim('cat', 1, 3);
    await b.hub.join('#r', 'bob', 1, 2);
    await c.hub.join('#r', 'cat', 1, 3);
    const oldPrimary = await redis.primaryPort();
    const replica = redis.nodePorts.find((p) => p !== oldPrimary)!;
    // The replica has everything so far; then it is frozen, so the next claim reaches the primary
    // only and is lost in the failover (replication is asynchronous).
    const r = await node(oldPrimary);
    await r.call('WAIT', '1', '2000');
    const frozen = redis.pidOf(replica)!;
    process.kill(frozen, 'SIGSTOP');
    let zedFence: number;
    try {
      await a.hub.claim('zed', 1, 1);
      zedFence = Number(await r.hget(keys.owner('zed'), 'fence'));
      r.disconnect();
      a.hub.halt(); // A's host freezes too: it will not re-register zed before the next claim
      await redis.killPrimary();
    } finally {
      process.kill(frozen, 'SIGCONT');
    }
    // While there is no primary, calls fail fast.
    const t = Date.now();
    await expect(c.hub.who(undefined, 10)).rejects.toMatchObject({ code: 'unavailable' });
    expect(Date.now() - t).toBeLessThan(3_000);

    const promoted = await redis.waitForFailover(oldPrimary, 20_000);
    expect(promoted).toBe(replica);
    await waitUntil(() => b.hub.available && c.hub.available, 15_000, 'the hosts reconnected to the new primary');
    await waitUntil(async () => (await c.hub.who(undefined, 10)).join() === 'bob,cat', 15_000, 'bob and cat online again');
    expect(await b.hub.who('#r', 10)).toEqual(['bob', 'cat']);

    // zed logs in again on B. The promoted replica never saw A's claim, yet the new fence is higher:
    // when A wakes up and re-registers zed, it is A that loses.
    const p = await node(promoted);
    expect(await p.hget(keys.owner('zed'), 'fence')).toBeNull();
    await b.hub.claim('zed', 1, 9);
    expect(Number(await p.hget(keys.owner('zed'), 'fence'))).toBeGreaterThan(zedFence!);
    p.disconnect();
  }, 60_000);
});
