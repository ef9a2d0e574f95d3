// Logins stay fair under attack (issue 19): password hashes are admitted round-robin across
// client addresses, so a hash flood from one address costs that address; failed-login throttling
// stops a guesser without locking the owner out. Several client addresses come from binding
// sockets to other loopback addresses (127.0.0.2, …: Linux answers all of 127.0.0.0/8).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { startHarness, type Harness } from '../testing/harness.ts';
import { PASSWORD, registered, tempDir, uniqueUser } from '../testing/helpers.ts';
import { WizzClient } from '../client/wizz-client.ts';
import { Req, Srv, WizzError } from '../protocol/codes.ts';
import { HashGate } from '../limits/hash-gate.ts';
import { RequestLimiter } from '../limits/request-limiter.ts';
import { DEFAULT_POLICY } from '../limits/policy.ts';

const code = (f: { type: number; body: Record<string, unknown> }) => (f.type === Srv.ERROR ? f.body.code : 'ok');
const from = (port: number, address: string) => WizzClient.connect(port, '127.0.0.1', 10_000, address);

/** A job the test finishes by hand, recording when it started. */
function manualJob(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return { job: () => (log.push(name), done), finish: () => finish() };
}

describe('the hash gate (unit)', () => {
  it('serves waiting addresses in turn: a flood from one address waits behind everybody else\'s one hash', async () => {
    const gate = new HashGate({ concurrency: 1, maxQueued: 64, maxQueuedPerAddress: 4 });
    const log: string[] = [];
    const flood = Array.from({ length: 5 }, (_, i) => manualJob(log, `a${i}`));
    const floods = flood.map((j) => gate.run('10.0.0.1', j.job));
    const b = manualJob(log, 'b0');
    const c = manualJob(log, 'c0');
    const others = [gate.run('10.0.0.2', b.job), gate.run('10.0.0.3', c.job)];
    expect(gate.stats).toEqual({ running: 1, queued: 6, addresses: 3 });
    for (const j of [...flood, b, c]) {
      j.finish();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all([...floods, ...others]);
    // a0 was running; then one hash per address in turn: b and c do not wait for the whole flood.
    expect(log).toEqual(['a0', 'a1', 'b0', 'c0', 'a2', 'a3', 'a4']);
  });

  it('is bounded: beyond an address\'s share, rate_limited at once with a retry hint; a full queue makes room for a newcomer from the busiest address', async () => {
    const gate = new HashGate({ concurrency: 1, maxQueued: 5, maxQueuedPerAddress: 3 });
    const log: string[] = [];
    const jobs = Array.from({ length: 9 }, (_, i) => manualJob(log, `j${i}`));
    const runs = [0, 1, 2, 3].map((i) => gate.run('a', jobs[i]!.job)); // j0 runs, j1-j3 wait
    const refused = gate.run('a', jobs[4]!.job);
    await expect(refused).rejects.toThrow(WizzError);
    await expect(refused).rejects.toMatchObject({ code: 'rate_limited', message: expect.stringMatching(/server busy hashing passwords; retry in \d+ s/) });
    runs.push(gate.run('b', jobs[5]!.job), gate.run('b', jobs[6]!.job));
    expect(gate.stats.queued).toBe(5);
    // Full. c has nothing waiting, a has three: a's newest (j3) gives way to c.
    const c = gate.run('c', jobs[7]!.job);
    await expect(runs[3]).rejects.toMatchObject({ code: 'rate_limited' });
    // Full again, and no address has two more waiting than b: b's newcomer is refused.
    await expect(gate.run('b', jobs[8]!.job)).rejects.toMatchObject({ code: 'rate_limited' });
    expect(gate.stats).toEqual({ running: 1, queued: 5, addresses: 3 });
    for (const j of jobs) {
      j.finish();
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all([...runs.slice(0, 3), ...runs.slice(4), c]);
    expect(log).toEqual(['j0', 'j1', 'j5', 'j7', 'j2', 'j6']);
  });

  it('a waiting hash whose connection closed is skipped, never run', async () => {
    const gate = new HashGate({ concurrency: 1, maxQueued: 8, maxQueuedPerAddress: 4 });
    const log: string[] = [];
    const first = manualJob(log, 'first');
    const running = gate.run('a', first.job);
    let open = true;
    const gone = gate.run('b', async () => log.push('gone'), () => open);
    open = false;
    first.finish();
    await running;
    await expect(gone).rejects.toMatchObject({ code: 'unavailable' });
    expect(log).toEqual(['first']);
    expect(gate.stats).toEqual({ running: 0, queued: 0, addresses: 0 });
  });
});

describe('a hash flood from one address (over TCP, slower hashes, one hash at a time)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({
      dbFile: path.join(tempDir(), 'wizz.db'),
      scryptLogN: 13,
      policy: { hashGate: { concurrency: 1, maxQueued: 64, maxQueuedPerAddress: 4 }, registersPerAddress: { burst: 0, refillPerS: 0 } },
    });
  });
  afterAll(() => h?.stop());

  it('40 connections from 127.0.0.2 hashing without pause: a LOGIN from 127.0.0.1 waits for at most one of their hashes', async () => {
    const port = h.ports[0]!;
    const user = await registered(port);
    const gate = h.reactors[0]!.hashGate;
    const starts: string[] = [];
    let mineQueuedAt = -1;
    const run = gate.run.bind(gate);
    gate.run = (address, job, wanted) => {
      if (address === '127.0.0.1') mineQueuedAt = starts.length;
      return run(address, () => (starts.push(address), job()), wanted);
    };
    let flooding = true;
    let floodReplies = 0;
    const flooders = await Promise.all(Array.from({ length: 40 }, () => from(port, '127.0.0.2')));
    const floods = flooders.map(async (c, i) => {
      for (let n = 0; flooding && n < 200; n++) {
        const reply = await c.request(n % 2 ? Req.REGISTER : Req.LOGIN, { user: n % 2 ? uniqueUser('f') : `flood_${i}`, password: 'wrong password' });
        floodReplies++;
        if (code(reply) === 'rate_limited') await new Promise((r) => setTimeout(r, 5));
      }
    });
    // Let the flood fill the gate first.
    const deadline = Date.now() + 10_000;
    while (gate.stats.queued < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(gate.stats.queued).toBeGreaterThanOrEqual(4);
    const me = await WizzClient.connect(port);
    const started = Date.now();
    const reply = await me.request(Req.LOGIN, { user, password: PASSWORD }, 30_000);
    const tookMs = Date.now() - started;
    flooding = false;
    await Promise.all(floods);
    await Promise.all([me.close(), ...flooders.map((c) => c.close())]);
    gate.run = run;
    expect(code(reply)).toBe('ok');
    // The order, not the clock: after mine was queued, at most one flood hash started before it.
    const mineStartedAt = starts.indexOf('127.0.0.1', mineQueuedAt);
    expect(mineQueuedAt).toBeGreaterThanOrEqual(0);
    expect(mineStartedAt - mineQueuedAt).toBeLessThanOrEqual(1);
    expect(floodReplies).toBeGreaterThan(40);
    expect(tookMs).toBeLessThan(20_000); // generous: a loaded machine, but never behind the whole flood
  });
});

describe('failed-login throttling (unit, with a clock)', () => {
  const policy = {
    ...DEFAULT_POLICY,
    failedLoginsPerName: { burst: 5, refillPerS: 5 / 60 },
    slowLoginsPerName: 6, // one per 10 s
    failedLoginsPerNameAddress: { burst: 3, refillPerS: 3 / 60 },
    failedLoginsPerAddress: { burst: 50, refillPerS: 50 / 60 },
  };

  function limiter() {
    const now = 1_000_000; // the clock stands still: every login below arrives at the same instant
    const waits: number[] = [];
    const l = new RequestLimiter(policy, () => now, async (ms) => {
      waits.push(ms);
    });
    return { l, waits };
  }

  it('per (name, address): the guesser is refused without a password check; the same name from elsewhere is not', async () => {
    const { l } = limiter();
    for (let i = 0; i < 3; i++) {
      await l.admitLogin('alice', 'evil');
      l.loginFailed('alice', 'evil');
    }
    await expect(l.admitLogin('alice', 'evil')).rejects.toMatchObject({ code: 'rate_limited' });
    await expect(l.admitLogin('bob', 'evil')).resolves.toBeUndefined();
    await expect(l.admitLogin('alice', 'home')).resolves.toBeUndefined();
  });

  it('a name guessed from many addresses: new addresses wait their turn (bounded), known addresses never', async () => {
    const { l, waits } = limiter();
    l.succeeded('alice', 'home');
    for (let i = 0; i < 5; i++) l.loginFailed('alice', `bot-${i}`);
    // The name's allowance is spent: a new address gets the next turn, the next ones 10 s apart …
    for (const cafe of ['cafe-1', 'cafe-2', 'cafe-3', 'cafe-4']) await l.admitLogin('alice', cafe);
    expect(waits).toEqual([10_000, 20_000, 30_000]);
    // … and beyond three turns ahead, rate_limited at once instead of a long wait.
    await expect(l.admitLogin('alice', 'cafe-5')).rejects.toMatchObject({ code: 'rate_limited', message: expect.stringMatching(/slowed: try again in 40 s/) });
    // The owner, from an address that logged in before, is not slowed at all.
    const before = waits.length;
    await l.admitLogin('alice', 'home');
    expect(waits.length).toBe(before);
    // Other names are unaffected.
    await l.admitLogin('bob', 'cafe-1');
    expect(waits.length).toBe(before);
  });
});

describe('nobody can lock alice out (over TCP, the default policy)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ dbFile: path.join(tempDir(), 'wizz.db') });
  });
  afterAll(() => h?.stop());

  it('25 wrong passwords for alice from 127.0.0.2: alice logs in from 127.0.0.1 every time; the guesser is stopped', async () => {
    const port = h.ports[0]!;
    const alice = await registered(port, uniqueUser('alice'));
    const attacker = await from(port, '127.0.0.2');
    const attempts: string[] = [];
    const mine: string[] = [];
    for (let i = 0; i < 25; i++) {
      const guess = await attacker.request(Req.LOGIN, { user: alice, password: `guess number ${i}` });
      attempts.push(String(code(guess)));
      const c = await WizzClient.connect(port);
      mine.push(String(code(await c.request(Req.LOGIN, { user: alice, password: PASSWORD }))));
      await c.close();
    }
    expect(mine).toEqual(Array(25).fill('ok'));
    // Ten guesses were checked (--failed-logins-per-name-address 10 a minute); the rest refused unchecked.
    expect(attempts.slice(0, 10)).toEqual(Array(10).fill('auth_failed'));
    expect(attempts.slice(10)).toEqual(Array(15).fill('rate_limited'));
    // The right password from the attacker's address is refused too: the guess is not even tried.
    expect(code(await attacker.request(Req.LOGIN, { user: alice, password: PASSWORD }))).toBe('rate_limited');
    await attacker.close();
  });

  it('guessed from 20 addresses: a new address is slowed, alice\'s own address and her token are not', async () => {
    // The default allowance (20 failures a minute for the name) with a slower refill and a faster
    // slow lane, so the test neither races the refill nor waits 5 s a turn.
    const slow = await startHarness({
      dbFile: path.join(tempDir(), 'wizz.db'),
      policy: { failedLoginsPerName: { burst: 20, refillPerS: 0.01 }, slowLoginsPerName: 60 },
    });
    const port = slow.ports[0]!;
    const setup = await WizzClient.connect(port);
    const alice = uniqueUser('alice');
    await setup.call(Req.REGISTER, { user: alice, password: PASSWORD });
    const { token } = await setup.call(Req.LOGIN, { user: alice, password: PASSWORD });
    await setup.close();
    for (let i = 0; i < 20; i++) {
      const bot = await from(port, `127.0.1.${i + 1}`);
      expect(code(await bot.request(Req.LOGIN, { user: alice, password: 'not her password' }))).toBe('auth_failed');
      await bot.close();
    }
    // New addresses: the slow lane, one a second, at most three turns ahead. (They guess wrong, so
    // that none of them replaces alice's own sessions below; the lane comes before any password.)
    const fresh = await Promise.all(['127.0.2.1', '127.0.2.2', '127.0.2.3', '127.0.2.4', '127.0.2.5'].map((a) => from(port, a)));
    const laneStarted = Date.now();
    const outcomes = fresh.map((c) => c.request(Req.LOGIN, { user: alice, password: 'still not hers' }, 30_000).then((r) => [code(r), Date.now() - laneStarted] as const));
    // Meanwhile alice from home and with her token get in at once, every time.
    for (let i = 0; i < 3; i++) {
      const home = await WizzClient.connect(port);
      const started = Date.now();
      expect(code(await home.request(Req.LOGIN, { user: alice, password: PASSWORD }))).toBe('ok');
      expect(Date.now() - started).toBeLessThan(3_000);
      await home.close();
      const again = await WizzClient.connect(port);
      expect(code(await again.request(Req.RESUME, { token }))).toBe('ok');
      await again.close();
    }
    const settled = await Promise.all(outcomes);
    const codes = settled.map(([c]) => c);
    expect(codes.filter((c) => c === 'rate_limited')).toHaveLength(1); // more than three turns ahead: refused, not parked
    expect(codes.filter((c) => c === 'auth_failed')).toHaveLength(4); // each checked in its turn
    // Their turns were a second apart: the last one checked waited about three.
    expect(Math.max(...settled.filter(([c]) => c === 'auth_failed').map(([, ms]) => ms))).toBeGreaterThanOrEqual(2_500);
    await Promise.all(fresh.map((c) => c.close()));
    await slow.stop();
  });
});
