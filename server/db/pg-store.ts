// The store on PostgreSQL, for several hosts sharing one database: the same operations, results
// and error codes as the SQLite actor (store.ts behind actor-client.ts), behind the same
// send(call) contract. Writes commit like the actor's: those that arrive in one loop iteration go
// in one transaction (one COMMIT, one fsync), one batch at a time in arrival order, and an OK is
// only given after its COMMIT succeeded; a failed COMMIT fails every write of the batch. The
// expected refusals (a taken name, an unknown recipient, a repeated key) are answers of the
// statements, not errors, so a batch needs no savepoints and is sent as one pipeline; when a
// statement does raise, the batch is rolled back and run again with a SAVEPOINT per write, so
// only the writes that raise fail. Reads go straight to a pool. Every wait on the server is
// bounded (connect, statement and read timeouts; the write pipeline by a watchdog on silence):
// PostgreSQL down or hung costs `unavailable` within about timeoutMs, and the pools reconnect
// when it is back.
import { createHash } from 'node:crypto';
import pg from 'pg';
import { LinkError } from '../router/link.ts';
import type { StoredMessage } from '../router/router.ts';
import { DEFAULT_MAX_PENDING } from './actor-client.ts';
import { isWrite, type DbCall, type StoreResult } from './ops.ts';
import { SESSION_PURGE_MAX } from './sessions.ts';
import { migrate, MIGRATION_WAIT_MS } from './pg-schema.ts';
import { isStaleConnection, isStatementError, toLinkError } from './pg-errors.ts';
import { Watchdog } from './pg-watchdog.ts';
import { redactUrl } from '../util/redact-url.ts';

export interface PgStoreOptions {
  /** postgres://USER[:PASSWORD]@HOST:PORT/DB */
  url: string;
  log?: (line: string) => void;
  /** Requests accepted and not yet answered, at most (default 100,000); beyond: `unavailable`. */
  maxPending?: number;
  /** Connections for reads (default 8); writes have one connection of their own. */
  readConnections?: number;
  /** Bound of every wait on the server: connecting, one statement, one reply (default 3000 ms). */
  timeoutMs?: number;
}

/** At most this many writes per transaction, so a huge backlog does not become one huge transaction. */
const MAX_TRANSACTION = 4_096;

type State = 'new' | 'starting' | 'up' | 'closing' | 'closed';
type Outcome = { ok: true; value: unknown } | { ok: false; error: LinkError };
/** Named: each connection parses a statement once and binds it after (4× the write rate of unnamed). */
type Query = { name: string; text: string; values: unknown[] };

/** One write: its statements, and how their results answer the request. */
interface Plan {
  queries: Query[];
  outcome(results: pg.QueryResult[]): Outcome;
}

interface QueuedWrite {
  call: DbCall;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** A write's statement raised: nothing of the attempt committed; run the batch again carefully. */
class StatementFailed extends Error {
  constructor(readonly cause: unknown) {
    super((cause as Error).message);
  }
}

/** BEGIN met a connection that had died while idle: nothing was sent, a fresh one may work. */
class StaleConnection extends Error {
  constructor(readonly cause: unknown) {
    super((cause as Error).message);
  }
}

// Ids and timestamps are int8, which pg hands over as strings: as numbers they are exact up to
// 2^53. Texts and keys are bytea holding UTF-8 (pg-schema.ts). A parser set of our own, so
// other users of pg in the process keep the defaults.
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === pg.types.builtins.INT8) return (v: string) => Number(v);
    if (oid === pg.types.builtins.BYTEA) return (v: string) => Buffer.from(v.slice(2), 'hex').toString('utf8');
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

const MESSAGE_COLUMNS = 'id AS "msgId", sender AS "from", recipient AS "to", body AS text, ts';
const USER_EXISTS = 'SELECT 1 FROM users WHERE name = $1';

export class PgStore {
  private state: State = 'new';
  private opening: Promise<void> | null = null;
  private reads: pg.Pool | null = null;
  private writes: pg.Pool | null = null;
  private queue: QueuedWrite[] = [];
  private writing = false;
  private flushScheduled = false;
  private inFlight = 0;
  private drained: Array<() => void> = [];
  private healthy = true;

  constructor(private readonly options: PgStoreOptions) {}

  private get timeoutMs(): number {
    return this.options.timeoutMs ?? 3_000;
  }

  /** Requests accepted and not yet answered. */
  get pendingCount(): number {
    return this.inFlight;
  }

  /** Connects and creates or migrates the schema; rejects when the database cannot be reached. */
  start(): Promise<void> {
    if (this.state !== 'new') return Promise.reject(new Error('PgStore.start() called twice'));
    this.state = 'starting';
    this.opening = this.open();
    return this.opening;
  }

  private async open(): Promise<void> {
    const timeoutMs = this.timeoutMs;
    const config: pg.PoolConfig = {
      connectionString: this.options.url,
      application_name: 'wizz',
      types,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      statement_timeout: timeoutMs,
      // A host that vanishes in the middle of a transaction must not hold its row locks for long.
      idle_in_transaction_session_timeout: 4 * timeoutMs,
      keepAlive: true,
    };
    this.reads = new pg.Pool({ ...config, max: this.options.readConnections ?? 8 });
    // The write connection pipelines whole batches: a Watchdog bounds it, not query_timeout.
    this.writes = new pg.Pool({ ...config, query_timeout: undefined, max: 1, pipeline: true });
    // An idle connection that dies (the server restarted) is dropped by the pool; without a
    // listener its 'error' would end the process.
    for (const pool of [this.reads, this.writes]) pool.on('error', (err) => this.trouble(err));
    try {
      const client = await this.writes.connect();
      // Another host may be migrating: wait for its lock longer than for an ordinary answer.
      const db = new Watchdog(client, Math.max(MIGRATION_WAIT_MS, timeoutMs));
      let broken: Error | undefined;
      try {
        await migrate((text, values) => db.query(text, values), this.options.log);
      } catch (err) {
        broken = err as Error;
        throw err;
      } finally {
        db.stop();
        client.release(broken);
      }
    } catch (err) {
      this.state = 'closed';
      await Promise.all([this.reads.end(), this.writes.end()]);
      throw new Error(`cannot open the PostgreSQL store at ${redactUrl(this.options.url)}: ${(err as Error).message}`);
    }
    if (this.state === 'starting') this.state = 'up';
    else await Promise.all([this.reads.end(), this.writes.end()]); // closed while starting
  }

  /** One typed operation (as the switchboard receives it from a reactor). */
  send(call: DbCall): Promise<unknown> {
    if (this.state !== 'up') {
      const why = this.state === 'new' || this.state === 'starting' ? 'is starting' : 'is closing';
      return Promise.reject(new LinkError('unavailable', `the database ${why}; try again`));
    }
    if (this.inFlight >= (this.options.maxPending ?? DEFAULT_MAX_PENDING)) {
      return Promise.reject(new LinkError('unavailable', 'the database is busy; try again'));
    }
    this.inFlight++;
    const answer = isWrite(call.op) ? this.enqueue(call) : this.read(call);
    return answer.finally(() => {
      if (--this.inFlight === 0) for (const wake of this.drained.splice(0)) wake();
    });
  }

  /** Answers everything accepted (each wait is bounded), then ends the pools. */
  async close(): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') return;
    if (this.state !== 'up') {
      this.state = 'closed';
      await this.opening?.catch(() => {}); // open() sees the state and ends the pools
      return;
    }
    this.state = 'closing';
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.drained.push(resolve));
    this.state = 'closed';
    await Promise.all([this.reads!.end(), this.writes!.end()]);
  }

  // ---- writes ----

  private enqueue(call: DbCall): Promise<unknown> {
    const answer = new Promise((resolve, reject) => this.queue.push({ call, resolve, reject }));
    this.scheduleFlush();
    return answer;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.writing) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.flush();
    }); // everything that arrives in this iteration joins the same commit
  }

  private async flush(): Promise<void> {
    if (this.writing || this.queue.length === 0) return;
    this.writing = true;
    const batch = this.queue.splice(0, MAX_TRANSACTION);
    const calls = batch.map((w) => w.call);
    let outcomes: Outcome[];
    try {
      outcomes = await this.commit(calls);
    } catch (err) {
      outcomes = this.failAll(calls, err); // a bug, but the queue must not stall on it
    } finally {
      this.writing = false;
    }
    batch.forEach((w, i) => {
      const o = outcomes[i]!;
      if (o.ok) w.resolve(o.value);
      else w.reject(o.error);
    });
    if (this.queue.length > 0) this.scheduleFlush(); // what arrived meanwhile: the next commit
  }

  /** Runs one batch of writes as one transaction; never rejects. */
  private async commit(calls: DbCall[]): Promise<Outcome[]> {
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.writes!.connect();
      } catch (err) {
        return this.failAll(calls, err);
      }
      // While checked out the pool does not listen: a connection lost now also rejects the query in progress.
      const onError = (err: Error) => this.trouble(err);
      client.on('error', onError);
      const db = new Watchdog(client, this.timeoutMs);
      let broken: Error | undefined;
      try {
        const outcomes = await this.transaction(db, calls);
        this.recovered();
        return outcomes;
      } catch (err) {
        broken = err as Error; // its state is unknown: the pool destroys it
        if (err instanceof StaleConnection && attempt === 1) continue;
        return this.failAll(calls, err instanceof StaleConnection ? err.cause : err);
      } finally {
        db.stop();
        client.off('error', onError);
        client.release(broken);
      }
    }
  }

  private async transaction(db: Watchdog, calls: DbCall[]): Promise<Outcome[]> {
    try {
      return await this.attempt(db, calls.map((c) => this.plan(c)));
    } catch (err) {
      if (!(err instanceof StatementFailed)) throw err;
      this.options.log?.(`postgres: a write of the batch failed (${err.message}); running the batch again write by write`);
      return await this.carefully(db, calls.map((c) => this.plan(c)));
    }
  }

  /** The common case: BEGIN, then every statement and the COMMIT in one pipeline. */
  private async attempt(db: Watchdog, plans: Plan[]): Promise<Outcome[]> {
    await this.begin(db);
    const sent = plans.map((p) => p.queries.map((q) => db.query(q)));
    const commit = db.query('COMMIT');
    const settled = await Promise.allSettled(sent.map((qs) => Promise.all(qs)));
    const committed = await commit.then(
      (r) => r.command === 'COMMIT', // an aborted transaction answers COMMIT with ROLLBACK
      (err: unknown) => err,
    );
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw isStatementError(failed.reason) ? new StatementFailed(failed.reason) : failed.reason;
    if (committed !== true) throw committed === false ? new Error('the transaction was rolled back') : committed;
    return settled.map((s, i) => plans[i]!.outcome((s as PromiseFulfilledResult<pg.QueryResult[]>).value));
  }

  /** After a statement raised: each write in its own savepoint, so only the writes that raise fail. */
  private async carefully(db: Watchdog, plans: Plan[]): Promise<Outcome[]> {
    await this.begin(db);
    const outcomes: Outcome[] = [];
    try {
      for (const plan of plans) {
        const savepoint = db.query('SAVEPOINT w');
        const queries = Promise.all(plan.queries.map((q) => db.query(q)));
        const release = db.query('RELEASE SAVEPOINT w');
        const [s, q, r] = await Promise.allSettled([savepoint, queries, release]);
        if (q.status === 'fulfilled' && s.status === 'fulfilled' && r.status === 'fulfilled') {
          outcomes.push(plan.outcome(q.value));
          continue;
        }
        const err = [s, q, r].find((x): x is PromiseRejectedResult => x.status === 'rejected')!.reason;
        if (!isStatementError(err)) throw err;
        await db.query('ROLLBACK TO SAVEPOINT w');
        await db.query('RELEASE SAVEPOINT w');
        outcomes.push({ ok: false, error: toLinkError(err) });
      }
    } catch (err) {
      await db.query('ROLLBACK').catch(() => {});
      throw err;
    }
    const result = await db.query('COMMIT');
    if (result.command !== 'COMMIT') throw new Error('the transaction was rolled back');
    return outcomes;
  }

  private async begin(db: Watchdog): Promise<void> {
    // Awaited on its own: statements must never run outside the batch's transaction.
    try {
      await db.query('BEGIN');
    } catch (err) {
      throw isStaleConnection(err) ? new StaleConnection(err) : err;
    }
  }

  private plan(call: DbCall): Plan {
    switch (call.op) {
      case 'createUser': {
        const [user, hash] = call.args;
        return {
          queries: [
            {
              name: 'wizz_create_user',
              text: 'INSERT INTO users (name, hash, created) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING',
              values: [user, hash, Date.now()],
            },
          ],
          outcome: ([r]) => (r!.rowCount === 1 ? ok(null) : refuse('user_taken', `the name "${user}" is taken`)),
        };
      }
      case 'storeMessage': {
        const [from, to, text, key] = call.args;
        const keyBytes = key === null ? null : Buffer.from(key, 'utf8');
        const body = Buffer.from(text, 'utf8');
        // The unique index on (sender, send_key) is the idempotency check: a rival with the same key
        // (this batch, or another host's open transaction, which ON CONFLICT waits for) wins, and
        // the SELECT after it — a new snapshot — finds the winner.
        const queries: Query[] = [
          {
            name: 'wizz_store_message',
            // ts is PostgreSQL's clock read right after the row took its id — one clock for every
            // host, so ts order follows msgId order up to the few microseconds between the two
            // reads (a host's own clock, read when its batch was built, let a later msgId carry an
            // earlier ts by a whole commit). Never below the newest committed message's.
            text: `INSERT INTO messages (id, sender, recipient, pair, body, ts, send_key) OVERRIDING SYSTEM VALUE
                   SELECT n.id, $1, $2, $3, $4,
                          GREATEST((extract(epoch FROM clock_timestamp()) * 1000)::bigint,
                                   COALESCE((SELECT ts FROM messages ORDER BY id DESC LIMIT 1), 0)),
                          $5
                   FROM (SELECT nextval(pg_get_serial_sequence('messages', 'id')) AS id) n
                   WHERE EXISTS (SELECT 1 FROM users WHERE name = $2)
                   ON CONFLICT (sender, send_key) WHERE send_key IS NOT NULL DO NOTHING
                   RETURNING id, ts`,
            values: [from, to, pairKey(from, to), body, keyBytes],
          },
        ];
        if (keyBytes) {
          // The first send's message as stored, and whether this is the same request: the same
          // recipient and the same stored bytes, compared by PostgreSQL through their SHA-256 — a
          // 32-byte digest travels instead of the text again, and the text need not come back: when
          // the bytes are the same, the stored text is these bytes decoded.
          queries.push({
            name: 'wizz_sent_with_key',
            text: `SELECT id AS "msgId", sender AS "from", recipient AS "to", ts, (recipient = $3 AND sha256(body) = $4) AS same
                   FROM messages WHERE sender = $1 AND send_key = $2`,
            values: [from, keyBytes, to, createHash('sha256').update(body).digest()],
          });
        }
        return {
          queries,
          outcome: ([inserted, seen]) => {
            const fresh = inserted!.rows[0] as { id: number; ts: number } | undefined;
            if (fresh) return ok({ msgId: fresh.id, from, to, text, ts: fresh.ts, first: true } satisfies StoreResult);
            const first = seen?.rows[0] as (Omit<StoredMessage, 'text'> & { same: boolean }) | undefined;
            if (first) {
              const { same, ...stored } = first;
              if (!same) return refuse('key_reused', 'this key was used for another message (another "to" or "text")');
              return ok({ ...stored, text: body.toString('utf8'), first: false } satisfies StoreResult);
            }
            return refuse('no_such_user', `no user "${to}"`);
          },
        };
      }
      case 'createSession': {
        const [tokenHash, user, expires] = call.args;
        const now = Date.now();
        return {
          queries: [
            // Expired tokens go a few at a time with each new one (bounded work per write).
            {
              name: 'wizz_purge_sessions',
              text: 'DELETE FROM sessions WHERE token_hash IN (SELECT token_hash FROM sessions WHERE expires <= $1 ORDER BY expires LIMIT $2)',
              values: [now, SESSION_PURGE_MAX],
            },
            {
              name: 'wizz_create_session',
              text: `INSERT INTO sessions (token_hash, name, created, expires) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (token_hash) DO UPDATE SET name = $2, created = $3, expires = $4`,
              values: [tokenHash, user, now, expires],
            },
          ],
          outcome: () => ok(null),
        };
      }
      case 'revokeSession':
        return {
          queries: [{ name: 'wizz_revoke_session', text: 'DELETE FROM sessions WHERE token_hash = $1', values: [call.args[0]] }],
          outcome: () => ok(null),
        };
      case 'revokeUserSessions':
        return {
          queries: [{ name: 'wizz_revoke_user_sessions', text: 'DELETE FROM sessions WHERE name = $1', values: [call.args[0]] }],
          outcome: () => ok(null),
        };
      case 'setPassword': {
        const [user, hash] = call.args;
        return {
          queries: [
            { name: 'wizz_set_password', text: 'UPDATE users SET hash = $2 WHERE name = $1', values: [user, hash] },
            { name: 'wizz_revoke_user_sessions', text: 'DELETE FROM sessions WHERE name = $1', values: [user] },
          ],
          outcome: ([updated]) => (updated!.rowCount === 1 ? ok(null) : refuse('no_such_user', `no user "${user}"`)),
        };
      }
      case 'markDelivered':
        return {
          queries: [
            {
              name: 'wizz_mark_delivered',
              text: 'UPDATE messages SET delivered = true WHERE id = ANY($1::int8[]) AND NOT delivered',
              values: [call.args[0]],
            },
          ],
          outcome: () => ok(null),
        };
      default:
        throw new Error(`${call.op} is not a write`);
    }
  }

  private failAll(calls: DbCall[], err: unknown): Outcome[] {
    this.trouble(err);
    const error = toLinkError(err);
    return calls.map(() => ({ ok: false, error }));
  }

  // ---- reads ----

  private async read(call: DbCall): Promise<unknown> {
    switch (call.op) {
      case 'passwordHash': {
        const rows = await this.query<{ hash: string }>('wizz_password_hash', 'SELECT hash FROM users WHERE name = $1', [call.args[0]]);
        return rows[0]?.hash ?? null;
      }
      case 'userExists':
        return (await this.query('wizz_user_exists', USER_EXISTS, [call.args[0]])).length > 0;
      case 'resumeSession': {
        const rows = await this.query<{ name: string }>(
          'wizz_resume_session',
          'SELECT name FROM sessions WHERE token_hash = $1 AND expires > $2',
          [call.args[0], Date.now()],
        );
        return rows[0]?.name ?? null;
      }
      case 'pending': {
        const [user, limit] = call.args;
        return this.query<StoredMessage>(
          'wizz_pending',
          `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE recipient = $1 AND NOT delivered ORDER BY id LIMIT $2`,
          [user, limit],
        );
      }
      case 'history': {
        const [a, b, before, limit] = call.args;
        if ((await this.query('wizz_user_exists', USER_EXISTS, [b])).length === 0) {
          throw new LinkError('no_such_user', `no user "${b}"`);
        }
        return this.query<StoredMessage>(
          'wizz_history',
          `SELECT ${MESSAGE_COLUMNS} FROM messages WHERE pair = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
          [pairKey(a, b), before ?? Number.MAX_SAFE_INTEGER, limit],
        );
      }
      default:
        throw new Error(`${call.op} is not a read`);
    }
  }

  private async query<R extends pg.QueryResultRow = pg.QueryResultRow>(name: string, text: string, values: unknown[]): Promise<R[]> {
    for (let attempt = 1; ; attempt++) {
      try {
        const { rows } = await this.reads!.query<R>({ name, text, values });
        this.recovered();
        return rows;
      } catch (err) {
        if (attempt === 1 && isStaleConnection(err)) continue; // a pooled connection the server dropped
        this.trouble(err);
        throw toLinkError(err);
      }
    }
  }

  // ---- health, logged on change only ----

  private trouble(err: unknown): void {
    if (!this.healthy || this.state === 'closed' || isStatementError(err)) return;
    this.healthy = false;
    this.options.log?.(`postgres: unavailable (${(err as Error).message})`);
  }

  private recovered(): void {
    if (this.healthy) return;
    this.healthy = true;
    this.options.log?.('postgres: available again');
  }
}

function ok(value: unknown): Outcome {
  return { ok: true, value };
}

function refuse(code: 'user_taken' | 'no_such_user' | 'key_reused', message: string): Outcome {
  return { ok: false, error: new LinkError(code, message) };
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a} ${b}` : `${b} ${a}`;
}
