// The PostgreSQL schema and its migrations. Every host runs migrate() at start; a transaction-level
// advisory lock makes the hosts that start at the same moment take turns, so each migration runs
// once and none sees a half-made schema. wizz_schema records the versions applied.
import type pg from 'pg';

/** pg_advisory_xact_lock key: 'wizz' in ASCII. */
export const SCHEMA_LOCK = 0x77697a7a;

/** How long a host waits for another host's migration (the lock) before its start fails. */
export const MIGRATION_WAIT_MS = 60_000;

/**
 * Migration N (1-based) brings the schema from version N-1 to N. Append only: a host compares the
 * database's version with MIGRATIONS.length and refuses a database newer than it knows.
 */
export const MIGRATIONS: readonly string[] = [
  // Message texts and idempotency keys are bytea holding UTF-8: a wizz text may contain U+0000,
  // which PostgreSQL's text type cannot store. The key lives on the message, so a message and
  // its key are one row: the unique index is the idempotency check, even between hosts racing.
  `
  CREATE TABLE users (
    name text PRIMARY KEY,
    hash text NOT NULL,
    created bigint NOT NULL
  );
  CREATE TABLE messages (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sender text NOT NULL,
    recipient text NOT NULL,
    pair text NOT NULL,
    body bytea NOT NULL,
    ts bigint NOT NULL,
    delivered boolean NOT NULL DEFAULT false,
    send_key bytea
  );
  CREATE INDEX messages_pending ON messages (recipient, id) WHERE NOT delivered;
  CREATE INDEX messages_pair ON messages (pair, id);
  CREATE UNIQUE INDEX messages_send_key ON messages (sender, send_key) WHERE send_key IS NOT NULL;
  `,
  // Resumable sessions: only the token's SHA-256 (hex) is kept.
  `
  CREATE TABLE sessions (
    token_hash text PRIMARY KEY,
    name text NOT NULL,
    created bigint NOT NULL,
    expires bigint NOT NULL
  );
  CREATE INDEX sessions_name ON sessions (name);
  CREATE INDEX sessions_expires ON sessions (expires);
  `,
];

/** Runs one statement on the connection that migrates. */
export type RunQuery = (text: string, values?: unknown[]) => Promise<pg.QueryResult>;

/** Brings the database to the newest schema; returns the version it found. */
export async function migrate(query: RunQuery, log?: (line: string) => void): Promise<number> {
  await query('BEGIN');
  try {
    // Another host may hold the lock while it migrates: wait longer than an ordinary statement.
    await query(`SET LOCAL statement_timeout = ${MIGRATION_WAIT_MS}`);
    await query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    await query(
      'CREATE TABLE IF NOT EXISTS wizz_schema (version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())',
    );
    const { rows } = await query('SELECT coalesce(max(version), 0)::int4 AS v FROM wizz_schema');
    const found = (rows[0] as { v: number }).v;
    if (found > MIGRATIONS.length) {
      throw new Error(`the database schema is version ${found}, newer than this wizz knows (${MIGRATIONS.length}): upgrade wizz`);
    }
    for (let v = found + 1; v <= MIGRATIONS.length; v++) {
      await query(MIGRATIONS[v - 1]!);
      await query('INSERT INTO wizz_schema (version) VALUES ($1)', [v]);
      log?.(`postgres: schema migrated to version ${v}`);
    }
    await query('COMMIT');
    return found;
  } catch (err) {
    await query('ROLLBACK').catch(() => {});
    throw err;
  }
}
