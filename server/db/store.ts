// The SQLite schema and every query, synchronous (better-sqlite3). Only the actor thread uses it.
// execute() runs one batch of requests inside one transaction: one commit (one fsync) per batch.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { StoredMessage } from '../router/router.ts';
import type { ErrorCode } from '../protocol/codes.ts';
import { isWrite, type DbCall, type StoreResult } from './ops.ts';
import { SESSION_PURGE_MAX } from './sessions.ts';

/** A DbCall with the correlation id its reply will carry. */
export type DbRequest = DbCall & { id: number };

export type DbReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; code: ErrorCode; message: string };

export class DbFailure extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
  }
}

export interface StoreOptions {
  /** Extra pragmas, e.g. "max_page_count = 50" in a test that wants SQLITE_FULL. */
  pragmas?: string[];
  /** Where a change of health is told (the database locked by another process, writable again). */
  log?: (line: string) => void;
}

/**
 * How long a batch waits for a write lock held by another process (an operator's sqlite3 shell, a
 * script) before its writes fail with `unavailable`. Short on purpose: this one thread serves the
 * whole server, so while it waits nothing is answered, reads included — SQLite's usual 5 s would
 * stall every user for 5 s per batch. 200 ms outlasts a short outside transaction or checkpoint;
 * beyond it the client is told to retry (SEND with a key is stored once). Once the lock has been
 * found held, the next batches do not wait at all until one gets it again: their writes fail at
 * once and their reads, which in WAL mode need no lock the writer holds, are served without delay.
 */
export const BUSY_WAIT_MS = 200;

export class Store {
  private readonly db: Database.Database;
  private readonly stmts: Statements;
  // Timestamps never go backwards, so msgId order and ts order agree even if the clock steps back.
  private lastTs: number;
  private locked = false;
  private readonly log: (line: string) => void;

  constructor(file: string, options: StoreOptions = {}) {
    this.log = options.log ?? (() => {});
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.db.pragma(`busy_timeout = ${BUSY_WAIT_MS}`);
    this.db.pragma('journal_mode = WAL');
    // FULL: with WAL, every commit fsyncs the log, so an acknowledged message survives power
    // loss too (NORMAL would survive a crash of the process but not of the machine).
    this.db.pragma('synchronous = FULL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS users (
        name TEXT PRIMARY KEY,
        hash TEXT NOT NULL,
        created INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        sender TEXT NOT NULL,
        recipient TEXT NOT NULL,
        pair TEXT NOT NULL,
        text TEXT NOT NULL,
        ts INTEGER NOT NULL,
        delivered INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX IF NOT EXISTS messages_pending ON messages (recipient, id) WHERE delivered = 0;
      CREATE INDEX IF NOT EXISTS messages_pair ON messages (pair, id);
      CREATE TABLE IF NOT EXISTS send_keys (
        sender TEXT NOT NULL,
        key TEXT NOT NULL,
        msg_id INTEGER NOT NULL,
        PRIMARY KEY (sender, key)
      ) WITHOUT ROWID;
      -- Resumable sessions: only the token's SHA-256 is kept, so a copy of the file resumes nobody.
      CREATE TABLE IF NOT EXISTS sessions (
        token_hash TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        created INTEGER NOT NULL,
        expires INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX IF NOT EXISTS sessions_name ON sessions (name);
      CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires);
    `);
    for (const p of options.pragmas ?? []) this.db.pragma(p);
    this.stmts = prepare(this.db);
    const last = this.stmts.lastMessage.get() as number | undefined;
    this.lastTs = last ?? 0;
  }

  /**
   * Runs a batch in one transaction and returns one reply per request. When the write lock cannot
   * be had (another process holds it past BUSY_WAIT_MS), the batch's writes fail with
   * `unavailable` — nothing was written — and its reads are served all the same.
   */
  execute(batch: DbRequest[]): DbReply[] {
    const writes = batch.some((r) => isWrite(r.op));
    if (writes) {
      try {
        this.db.exec('BEGIN IMMEDIATE');
      } catch (err) {
        const failure = this.lockFailure(err);
        return batch.map((req) => (isWrite(req.op) ? { id: req.id, ok: false, code: failure.code, message: failure.message } : this.answer(req)));
      }
      if (this.locked) {
        this.locked = false;
        this.db.pragma(`busy_timeout = ${BUSY_WAIT_MS}`);
        this.log('the database is writable again');
      }
    }
    const replies: DbReply[] = [];
    let fullSeen = false;
    for (const req of batch) {
      const reply = this.answer(req);
      if (!reply.ok && reply.code === 'storage_full') fullSeen = true;
      replies.push(reply);
    }
    if (!writes) return replies;
    let commitFailure: DbFailure | null = null;
    try {
      if (this.db.inTransaction) this.db.exec('COMMIT');
      else commitFailure = new DbFailure(fullSeen ? 'storage_full' : 'unavailable', 'the transaction was rolled back');
    } catch (err) {
      commitFailure = toFailure(err);
      this.rollback();
    }
    if (!commitFailure) return replies;
    // Nothing of this batch reached the disk: no write may be acknowledged.
    return replies.map((r, i) =>
      r.ok && isWrite(batch[i]!.op) ? { id: r.id, ok: false, code: commitFailure.code, message: commitFailure.message } : r,
    );
  }

  close(): void {
    this.db.pragma('wal_checkpoint(TRUNCATE)');
    this.db.close();
  }

  /** Ends a transaction left open by a failure; a ROLLBACK that fails leaves nothing more to do. */
  rollback(): void {
    try {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
    } catch {
      // SQLite has rolled back already (it does so by itself after some errors).
    }
  }

  /** One request, its failure (a refusal or an SQLite error) as its reply. */
  private answer(req: DbRequest): DbReply {
    try {
      return { id: req.id, ok: true, value: this.run(req) };
    } catch (err) {
      const failure = toFailure(err);
      return { id: req.id, ok: false, code: failure.code, message: failure.message };
    }
  }

  /** BEGIN IMMEDIATE failed: why, for the batch's writes; a lock held elsewhere is logged once per episode. */
  private lockFailure(err: unknown): DbFailure {
    const code = (err as { code?: string }).code ?? '';
    if (code !== 'SQLITE_BUSY' && code !== 'SQLITE_LOCKED') return toFailure(err);
    if (!this.locked) {
      this.locked = true;
      this.db.pragma('busy_timeout = 0'); // waited once; until the lock is had again, asking is enough
      this.log(`the database is locked by another process (${code}): writes get unavailable until it lets go`);
    }
    return new DbFailure('unavailable', 'the database is locked by another process; try again');
  }

  private run(call: DbCall): unknown {
    switch (call.op) {
      case 'createUser': {
        const [user, hash] = call.args;
        try {
          this.stmts.insertUser.run(user, hash, Date.now());
        } catch (err) {
          if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
            throw new DbFailure('user_taken', `the name "${user}" is taken`);
          }
          throw err;
        }
        return null;
      }
      case 'passwordHash':
        return (this.stmts.userHash.get(call.args[0]) as string | undefined) ?? null;
      case 'userExists':
        return this.stmts.userHash.get(call.args[0]) !== undefined;
      case 'storeMessage':
        return this.storeMessage(...call.args);
      case 'pending':
        return this.stmts.pending.all(call.args[0], call.args[1]) as StoredMessage[];
      case 'markDelivered':
        for (const id of call.args[0]) this.stmts.markDelivered.run(id);
        return null;
      case 'history': {
        const [a, b, before, limit] = call.args;
        if (this.stmts.userHash.get(b) === undefined) throw new DbFailure('no_such_user', `no user "${b}"`);
        return this.stmts.history.all(pairKey(a, b), before ?? Number.MAX_SAFE_INTEGER, limit) as StoredMessage[];
      }
      case 'createSession': {
        const [tokenHash, user, expires] = call.args;
        const now = Date.now();
        // Expired tokens go a few at a time with each new one: bounded work, and the table stays
        // about as large as the sessions that are still valid.
        this.stmts.purgeSessions.run(now, SESSION_PURGE_MAX);
        this.stmts.insertSession.run(tokenHash, user, now, expires);
        return null;
      }
      case 'resumeSession':
        return (this.stmts.sessionUser.get(call.args[0], Date.now()) as string | undefined) ?? null;
      case 'revokeSession':
        this.stmts.deleteSession.run(call.args[0]);
        return null;
      case 'revokeUserSessions':
        this.stmts.deleteUserSessions.run(call.args[0]);
        return null;
      case 'setPassword': {
        const [user, hash] = call.args;
        if (this.stmts.updateHash.run(hash, user).changes === 0) throw new DbFailure('no_such_user', `no user "${user}"`);
        this.stmts.deleteUserSessions.run(user);
        return null;
      }
    }
  }

  /**
   * Inside the batch's transaction: the message and its key commit together or not at all. A key
   * seen before answers the message stored under it — read back, so nothing the retry says is
   * trusted — and only when the retry is the same request (same `to` and `text`, compared by
   * SQLite on the stored values); another request under the key is `key_reused`.
   */
  private storeMessage(from: string, to: string, text: string, key: string | null): StoreResult {
    if (key !== null) {
      const seen = this.stmts.sentWithKey.get(to, text, from, key) as (StoredMessage & { same: number }) | undefined;
      if (seen) {
        const { same, ...stored } = seen;
        if (!same) throw new DbFailure('key_reused', 'this key was used for another message (another "to" or "text")');
        return { ...stored, first: false };
      }
    }
    if (this.stmts.userHash.get(to) === undefined) throw new DbFailure('no_such_user', `no user "${to}"`);
    const ts = (this.lastTs = Math.max(Date.now(), this.lastTs));
    const msgId = Number(this.stmts.insertMessage.run(from, to, pairKey(from, to), text, ts).lastInsertRowid);
    if (key !== null) this.stmts.insertKey.run(from, key, msgId);
    return { msgId, from, to, text, ts, first: true };
  }
}

type Statements = ReturnType<typeof prepare>;

function prepare(db: Database.Database) {
  const columns = 'id AS msgId, sender AS "from", recipient AS "to", text, ts';
  return {
    insertUser: db.prepare('INSERT INTO users (name, hash, created) VALUES (?, ?, ?)'),
    userHash: db.prepare('SELECT hash FROM users WHERE name = ?').pluck(),
    insertMessage: db.prepare(
      'INSERT INTO messages (sender, recipient, pair, text, ts) VALUES (?, ?, ?, ?, ?)',
    ),
    lastMessage: db.prepare('SELECT ts FROM messages ORDER BY id DESC LIMIT 1').pluck(),
    pending: db.prepare(
      `SELECT ${columns} FROM messages WHERE recipient = ? AND delivered = 0 ORDER BY id LIMIT ?`,
    ),
    markDelivered: db.prepare('UPDATE messages SET delivered = 1 WHERE id = ?'),
    history: db.prepare(
      `SELECT ${columns} FROM messages WHERE pair = ? AND id < ? ORDER BY id DESC LIMIT ?`,
    ),
    sentWithKey: db.prepare(
      `SELECT m.id AS msgId, m.sender AS "from", m.recipient AS "to", m.text, m.ts, (m.recipient = ? AND m.text = ?) AS same
       FROM send_keys k JOIN messages m ON m.id = k.msg_id WHERE k.sender = ? AND k.key = ?`,
    ),
    updateHash: db.prepare('UPDATE users SET hash = ? WHERE name = ?'),
    insertSession: db.prepare('INSERT OR REPLACE INTO sessions (token_hash, name, created, expires) VALUES (?, ?, ?, ?)'),
    sessionUser: db.prepare('SELECT name FROM sessions WHERE token_hash = ? AND expires > ?').pluck(),
    deleteSession: db.prepare('DELETE FROM sessions WHERE token_hash = ?'),
    deleteUserSessions: db.prepare('DELETE FROM sessions WHERE name = ?'),
    purgeSessions: db.prepare(
      'DELETE FROM sessions WHERE token_hash IN (SELECT token_hash FROM sessions WHERE expires <= ? ORDER BY expires LIMIT ?)',
    ),
    insertKey: db.prepare('INSERT OR REPLACE INTO send_keys (sender, key, msg_id) VALUES (?, ?, ?)'), // a key whose message was deleted is reused
  };
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a} ${b}` : `${b} ${a}`;
}

function toFailure(err: unknown): DbFailure {
  if (err instanceof DbFailure) return err;
  const code = (err as { code?: string }).code ?? '';
  if (code === 'SQLITE_FULL') return new DbFailure('storage_full', 'the server is out of storage');
  return new DbFailure('unavailable', `database error: ${(err as Error).message}`);
}
