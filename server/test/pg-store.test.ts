// PgStore against a real throwaway PostgreSQL: the store contract it shares with the SQLite actor,
// the schema made once by hosts starting together, an idempotency key raced by two hosts, a write
// that raises failing alone, a failed COMMIT failing its whole batch, the bounded queue, close(),
// and PostgreSQL killed, hung and back (unavailable within the timeout, then service again).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { PgStore, type PgStoreOptions } from '../db/pg-store.ts';
import { MIGRATIONS } from '../db/pg-schema.ts';
import { DbActor } from '../db/actor-client.ts';
import type { DbCall, StoreResult } from '../db/ops.ts';
import type { LinkError } from '../router/link.ts';
import { startPostgres, type ThrowawayPostgres } from '../testing/postgres.ts';
import { eventually, tempDir, uniqueUser } from '../testing/helpers.ts';
import { describeStoreContract } from './store-contract.ts';

let server: ThrowawayPostgres;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(() => server?.stop());

const opened: PgStore[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

let namespaces = 0;
/**
 * The url of a new empty namespace on the throwaway server, so each test's tables and schema
 * changes stay its own: a PostgreSQL schema first on the connection's search_path (a database per
 * test would cost ≈ 7 MB of WAL each, replayed after the kill test's crash).
 */
async function freshDatabase(): Promise<string> {
  const name = `t${++namespaces}`;
  await withAdmin(server.url, (c) => c.query(`CREATE SCHEMA ${name}`));
  return `${server.url}?options=${encodeURIComponent(`-c search_path=${name}`)}`;
}

async function withAdmin<T>(url: string, use: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

async function openStore(options: Partial<PgStoreOptions> & { url: string }): Promise<PgStore> {
  const store = new PgStore({ log: () => {}, ...options });
  opened.push(store);
  await store.start();
  return store;
}

const createUser = (s: PgStore, user: string) => s.send({ op: 'createUser', args: [user, `hash-of-${user}`] });
const storeMessage = (s: PgStore, from: string, to: string, text: string, key: string | null = null) =>
  s.send({ op: 'storeMessage', args: [from, to, text, key] }) as Promise<StoreResult>;
const texts = async (s: PgStore, a: string, b: string) =>
  ((await s.send({ op: 'history', args: [a, b, null, 100] })) as Array<{ text: string }>).map((m) => m.text);
const outcome = (r: PromiseSettledResult<unknown>) => (r.status === 'fulfilled' ? 'ok' : (r.reason as LinkError).code);

async function twoUsers(s: PgStore): Promise<[string, string]> {
  const a = uniqueUser('pg');
  const b = uniqueUser('pg');
  await Promise.all([createUser(s, a), createUser(s, b)]);
  return [a, b];
}

describeStoreContract('SQLite (DbActor)', async () => {
  const actor = new DbActor({ file: path.join(tempDir(), 'wizz.db'), log: () => {} });
  await actor.start();
  return actor;
});

describeStoreContract('PostgreSQL (PgStore)', async () => {
  const store = new PgStore({ url: await freshDatabase(), log: () => {} });
  await store.start();
  return store;
});

describe('PgStore: the schema', () => {
  it('hosts starting at once on an empty database create the schema once and share it', async () => {
    const url = await freshDatabase();
    const stores = await Promise.all(Array.from({ length: 4 }, () => openStore({ url })));
    const versions = await withAdmin(url, (c) => c.query('SELECT version FROM wizz_schema ORDER BY version'));
    expect(versions.rows).toEqual(MIGRATIONS.map((_, i) => ({ version: i + 1 })));
    const [a, b] = await twoUsers(stores[0]!);
    await storeMessage(stores[1]!, a, b, 'written by one host');
    expect(await texts(stores[3]!, a, b)).toEqual(['written by one host']);
  });

  it('refuses a database whose schema is newer than this wizz knows', async () => {
    const url = await freshDatabase();
    await openStore({ url });
    await withAdmin(url, (c) => c.query('INSERT INTO wizz_schema (version) VALUES (99)'));
    await expect(new PgStore({ url }).start()).rejects.toThrow(/version 99, newer than this wizz knows/);
  });

  it('start() rejects quickly and clearly when nothing listens, without showing the password', async () => {
    const port = await closedPort();
    const started = Date.now();
    const attempt = new PgStore({ url: `postgres://wizz:s3cret@127.0.0.1:${port}/wizz`, timeoutMs: 1_000 }).start();
    await expect(attempt).rejects.toThrow(/cannot open the PostgreSQL store at postgres:\/\/wizz:\*\*\*@127\.0\.0\.1/);
    await expect(attempt).rejects.not.toThrow(/s3cret/);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

describe('PgStore: an idempotency key raced by two hosts', () => {
  it('a send waiting on another host\'s uncommitted row with its key answers that row once it commits', async () => {
    const url = await freshDatabase();
    const store = await openStore({ url });
    const [a, b] = await twoUsers(store);
    await withAdmin(url, async (rival) => {
      await rival.query('BEGIN');
      const { rows } = await rival.query(
        `INSERT INTO messages (sender, recipient, pair, body, ts, send_key)
         VALUES ($1, $2, $3, convert_to('the same', 'UTF8'), 1, convert_to('race', 'UTF8')) RETURNING id::int4`,
        [a, b, [a, b].sort().join(' ')],
      );
      const answer = storeMessage(store, a, b, 'the same', 'race');
      await waitingOnALock(url);
      await rival.query('COMMIT');
      expect(await answer).toEqual({ msgId: rows[0].id, from: a, to: b, text: 'the same', ts: 1, first: false });
    });
    expect(await texts(store, a, b)).toEqual(['the same']);
  });

  it('…and refuses with key_reused when the committed rival under its key holds another text', async () => {
    const url = await freshDatabase();
    const store = await openStore({ url });
    const [a, b] = await twoUsers(store);
    await withAdmin(url, async (rival) => {
      await rival.query('BEGIN');
      await rival.query(
        `INSERT INTO messages (sender, recipient, pair, body, ts, send_key)
         VALUES ($1, $2, $3, convert_to('the rival', 'UTF8'), 1, convert_to('race', 'UTF8'))`,
        [a, b, [a, b].sort().join(' ')],
      );
      const answer = storeMessage(store, a, b, 'mine', 'race');
      await waitingOnALock(url);
      await rival.query('COMMIT');
      await expect(answer).rejects.toMatchObject({ code: 'key_reused' });
    });
    expect(await texts(store, a, b)).toEqual(['the rival']);
  });

  it('…and stores its own message when the rival rolls back', async () => {
    const url = await freshDatabase();
    const store = await openStore({ url });
    const [a, b] = await twoUsers(store);
    await withAdmin(url, async (rival) => {
      await rival.query('BEGIN');
      await rival.query(
        `INSERT INTO messages (sender, recipient, pair, body, ts, send_key)
         VALUES ($1, $2, $3, convert_to('the rival', 'UTF8'), 1, convert_to('race', 'UTF8'))`,
        [a, b, [a, b].sort().join(' ')],
      );
      const answer = storeMessage(store, a, b, 'mine', 'race');
      await waitingOnALock(url);
      await rival.query('ROLLBACK');
      expect(await answer).toMatchObject({ first: true });
    });
    expect(await texts(store, a, b)).toEqual(['mine']);
  });

  it('two PgStores sending the same 300 keys at once store 300 messages, each key answered with one msgId', async () => {
    const url = await freshDatabase();
    const [one, two] = await Promise.all([openStore({ url }), openStore({ url })]);
    const [a, b] = await twoUsers(one);
    const keys = Array.from({ length: 300 }, (_, i) => `key-${i}`);
    const [fromOne, fromTwo] = await Promise.all([
      Promise.all(keys.map((k) => storeMessage(one, a, b, `text of ${k}`, k))),
      Promise.all(keys.map((k) => storeMessage(two, a, b, `text of ${k}`, k))),
    ]);
    keys.forEach((_, i) => {
      expect(fromTwo[i]!.msgId).toBe(fromOne[i]!.msgId);
      expect(fromTwo[i]!.ts).toBe(fromOne[i]!.ts);
      expect(Number(fromOne[i]!.first) + Number(fromTwo[i]!.first)).toBe(1);
    });
    const count = await withAdmin(url, (c) => c.query('SELECT count(*)::int4 AS n FROM messages WHERE sender = $1', [a]));
    expect(count.rows[0].n).toBe(300);
  });
});

describe('PgStore: failures inside a batch', () => {
  it('two hosts storing at once: ts order follows msgId order (one clock, the store\'s, when the row takes its id)', async () => {
    const url = await freshDatabase();
    const [h1, h2] = [await openStore({ url }), await openStore({ url })];
    const [a, b] = await twoUsers(h1);
    // Batches of both hosts interleave and commit in either order; the later msgId must not carry the earlier ts.
    const results: StoreResult[] = [];
    for (let round = 0; round < 20; round++) {
      const batch = Array.from({ length: 20 }, (_, i) => storeMessage(i % 2 ? h1 : h2, a, b, `r${round} m${i}`));
      results.push(...(await Promise.all(batch)));
    }
    const byId = [...results].sort((x, y) => x.msgId - y.msgId);
    const worst = Math.max(0, ...byId.map((m, i) => (i > 0 ? byId[i - 1]!.ts - m.ts : 0)));
    console.log(`[pg] worst ts inversion in msgId order: ${worst} ms`);
    expect(worst).toBeLessThanOrEqual(1);
    const stored = (await h2.send({ op: 'history', args: [a, b, null, 100] })) as Array<{ msgId: number; ts: number }>;
    for (const m of stored) expect(m.ts).toBe(results.find((r) => r.msgId === m.msgId)!.ts); // the ts answered is the ts kept
  });

  it('a write whose statement raises fails alone; the rest of its batch commits', async () => {
    const url = await freshDatabase();
    const store = await openStore({ url });
    const [a, b] = await twoUsers(store);
    await withAdmin(url, (c) => c.query("ALTER TABLE messages ADD CONSTRAINT no_poison CHECK (body <> convert_to('poison', 'UTF8'))"));
    const fresh = uniqueUser('pg');
    const settled = await Promise.allSettled([
      storeMessage(store, a, b, 'first'),
      storeMessage(store, a, b, 'poison'),
      createUser(store, fresh),
      storeMessage(store, a, b, 'last', 'k'),
    ]);
    expect(settled.map(outcome)).toEqual(['ok', 'unavailable', 'ok', 'ok']);
    expect(await texts(store, a, b)).toEqual(['last', 'first']);
    expect(await store.send({ op: 'userExists', args: [fresh] })).toBe(true);
    // The next batch takes the quick path again.
    await storeMessage(store, a, b, 'again');
    expect(await texts(store, a, b)).toEqual(['again', 'last', 'first']);
  });

  it('a failed COMMIT fails every write of its batch and stores none of them; the next batch commits', async () => {
    const url = await freshDatabase();
    const store = await openStore({ url });
    const [a, b] = await twoUsers(store);
    const kept = await storeMessage(store, a, b, 'kept');
    // A deferred constraint: checked at COMMIT, so every statement succeeds and the COMMIT fails.
    await withAdmin(url, (c) =>
      c.query(`
        CREATE FUNCTION no_boom() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.body = convert_to('boom', 'UTF8') THEN RAISE EXCEPTION 'boom at commit'; END IF;
          RETURN NULL;
        END $$;
        CREATE CONSTRAINT TRIGGER no_boom AFTER INSERT ON messages
          DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION no_boom();
      `),
    );
    const fresh = uniqueUser('pg');
    const calls: DbCall[] = [
      { op: 'storeMessage', args: [a, b, 'would be fine', 'k1'] },
      { op: 'storeMessage', args: [a, b, 'boom', null] },
      { op: 'createUser', args: [fresh, 'h'] },
      { op: 'markDelivered', args: [[kept.msgId]] },
    ];
    const settled = await Promise.allSettled(calls.map((c) => store.send(c)));
    expect(settled.map(outcome)).toEqual(['unavailable', 'unavailable', 'unavailable', 'unavailable']);
    expect(await texts(store, a, b)).toEqual(['kept']);
    expect(await store.send({ op: 'userExists', args: [fresh] })).toBe(false);
    expect(await store.send({ op: 'pending', args: [b, 10] })).toHaveLength(1); // markDelivered rolled back too
    expect(await storeMessage(store, a, b, 'would be fine', 'k1')).toMatchObject({ first: true });
    expect(await texts(store, a, b)).toEqual(['would be fine', 'kept']);
  });
});

describe('PgStore: bounded and closable', () => {
  it('past maxPending a request fails at once with unavailable; the accepted ones are answered', async () => {
    const store = await openStore({ url: await freshDatabase(), maxPending: 4 });
    const [a, b] = await twoUsers(store);
    const sends = Array.from({ length: 10 }, (_, i) => storeMessage(store, a, b, `m${i}`));
    expect(store.pendingCount).toBe(4);
    const settled = await Promise.allSettled(sends);
    expect(settled.map(outcome)).toEqual([...Array(4).fill('ok'), ...Array(6).fill('unavailable')]);
    expect(store.pendingCount).toBe(0);
    expect(await texts(store, a, b)).toHaveLength(4);
  });

  it('close() answers everything accepted, then refuses with unavailable', async () => {
    const url = await freshDatabase();
    const store = await openStore({ url });
    const [a, b] = await twoUsers(store);
    const sends = Array.from({ length: 50 }, (_, i) => storeMessage(store, a, b, `m${i}`));
    const reads = Array.from({ length: 20 }, () => store.send({ op: 'pending', args: [b, 100] }));
    await store.close();
    expect((await Promise.allSettled([...sends, ...reads])).map(outcome)).toEqual(Array(70).fill('ok'));
    await expect(store.send({ op: 'userExists', args: [a] })).rejects.toMatchObject({ code: 'unavailable' });
    const other = await openStore({ url });
    expect(await texts(other, a, b)).toHaveLength(50);
  });
});

describe('PgStore: a busy server is not a dead one', () => {
  it('a batch whose statements take longer in total than timeoutMs commits (the timeout is on silence, not on the batch)', async () => {
    const timeoutMs = 250;
    const store = await openStore({ url: await freshDatabase(), timeoutMs });
    const [a, b] = await twoUsers(store);
    const started = Date.now();
    // 4,096 writes of 8 KB: one transaction that takes well over timeoutMs even on an idle machine.
    const sends = Array.from({ length: 4_096 }, (_, i) => storeMessage(store, a, b, `m${i} ${'x'.repeat(8_000)}`, `k${i}`));
    const settled = await Promise.allSettled(sends);
    const elapsed = Date.now() - started;
    expect(settled.filter((r) => r.status === 'rejected').map(outcome)).toEqual([]);
    expect(elapsed, 'the batch was too quick to show anything').toBeGreaterThan(timeoutMs);
  });
});

// Last: these stop and start the shared server.
describe('PgStore: PostgreSQL killed, hung, and back', () => {
  const TIMEOUT_MS = 1_000;

  it('connections the server dropped cost no request', async () => {
    const url = await freshDatabase();
    const store = await openStore({ url });
    const [a, b] = await twoUsers(store);
    for (let round = 0; round < 3; round++) {
      await withAdmin(url, (c) => c.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'wizz'"));
      const settled = await Promise.allSettled([storeMessage(store, a, b, `r${round}`), store.send({ op: 'pending', args: [b, 100] })]);
      expect(settled.map(outcome)).toEqual(['ok', 'ok']);
    }
  });

  it('killed: reads and writes fail with unavailable within the timeout; started again: they succeed and committed data is there', async () => {
    const url = await freshDatabase();
    const store = await openStore({ url, timeoutMs: TIMEOUT_MS });
    const [a, b] = await twoUsers(store);
    await storeMessage(store, a, b, 'before the crash', 'k');
    await server.kill();
    try {
      const started = Date.now();
      const settled = await Promise.allSettled([
        storeMessage(store, a, b, 'during'),
        createUser(store, uniqueUser('pg')),
        store.send({ op: 'passwordHash', args: [a] }),
        store.send({ op: 'history', args: [a, b, null, 10] }),
      ]);
      expect(settled.map(outcome)).toEqual(['unavailable', 'unavailable', 'unavailable', 'unavailable']);
      expect(Date.now() - started).toBeLessThan(3 * TIMEOUT_MS);
      expect(store.pendingCount).toBe(0);
    } finally {
      await server.start();
    }
    await eventually(async () => (await Promise.allSettled([storeMessage(store, a, b, 'after')])).every((r) => r.status === 'fulfilled'), 10_000);
    expect(await storeMessage(store, a, b, 'before the crash', 'k')).toMatchObject({ first: false, text: 'before the crash' });
    expect(await texts(store, a, b)).toEqual(['after', 'before the crash']);
  });

  it('hung (SIGSTOP): requests fail with unavailable within about the timeout, nothing hangs; resumed: they succeed', async () => {
    const url = await freshDatabase();
    const store = await openStore({ url, timeoutMs: TIMEOUT_MS });
    const [a, b] = await twoUsers(store);
    await Promise.all([storeMessage(store, a, b, 'before'), store.send({ op: 'pending', args: [b, 10] })]);
    server.pause();
    try {
      const started = Date.now();
      const settled = await Promise.allSettled([
        storeMessage(store, a, b, 'during'),
        store.send({ op: 'pending', args: [b, 10] }),
        store.send({ op: 'userExists', args: [a] }),
      ]);
      expect(settled.map(outcome)).toEqual(['unavailable', 'unavailable', 'unavailable']);
      expect(Date.now() - started).toBeLessThan(3 * TIMEOUT_MS);
    } finally {
      server.resume();
    }
    await eventually(async () => (await Promise.allSettled([storeMessage(store, a, b, 'after')])).every((r) => r.status === 'fulfilled'), 10_000);
    expect(await store.send({ op: 'userExists', args: [a] })).toBe(true);
    expect((await texts(store, a, b)).at(-1)).toBe('before');
  });
});

describe('the throwaway PostgreSQL', () => {
  it('stop() leaves no server process and no directory (the shared one, last)', async () => {
    const { pid, dir, port } = server;
    expect(pid).not.toBeNull();
    expect(fs.existsSync(dir)).toBe(true);
    await server.stop();
    expect(() => process.kill(pid!, 0)).toThrow();
    expect(fs.existsSync(dir)).toBe(false);
    expect(processesMentioning(dir)).toEqual([]);
    await expect(withAdmin(`postgres://postgres@127.0.0.1:${port}/wizz`, async () => {})).rejects.toThrow();
  });
});

/** Resolves once some wizz connection waits for a lock (the rival's uncommitted key). */
function waitingOnALock(url: string): Promise<void> {
  return withAdmin(url, (c) =>
    eventually(async () => {
      const { rows } = await c.query("SELECT count(*)::int4 AS n FROM pg_stat_activity WHERE application_name = 'wizz' AND wait_event_type = 'Lock'");
      return rows[0].n > 0;
    }),
  );
}

/** A port nothing listens on (it was free a moment ago). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function processesMentioning(text: string): number[] {
  return fs
    .readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((e) => {
      try {
        return fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}
