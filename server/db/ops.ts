// The database's operations as types: each op's arguments and result. The reactor's LinkDb, the
// primary's switchboard, the actor client and the Store all speak DbCall, so an op name or an
// argument list that does not match is a compile error, not a cast.
import type { StoredMessage } from '../router/router.ts';

/**
 * The message as stored, with `first`: false when the sender's idempotency key was seen before
 * (with the same `to` and `text`; another body is refused as `key_reused`) and this is the first
 * send's message, read back from the store — never the retry's fields.
 */
export interface StoreResult extends StoredMessage {
  first: boolean;
}

export interface DbOps {
  createUser: { args: [user: string, passwordHash: string]; result: null };
  passwordHash: { args: [user: string]; result: string | null };
  userExists: { args: [user: string]; result: boolean };
  storeMessage: { args: [from: string, to: string, text: string, key: string | null]; result: StoreResult };
  pending: { args: [user: string, limit: number]; result: StoredMessage[] };
  markDelivered: { args: [msgIds: number[]]; result: null };
  history: { args: [a: string, b: string, before: number | null, limit: number]; result: StoredMessage[] };
  /** A session token (its SHA-256, hex) for `user`, valid until `expires` (ms since the epoch). */
  createSession: { args: [tokenHash: string, user: string, expires: number]; result: null };
  /** The user of an unexpired, unrevoked session token, or null. */
  resumeSession: { args: [tokenHash: string]; result: string | null };
  revokeSession: { args: [tokenHash: string]; result: null };
  revokeUserSessions: { args: [user: string]; result: null };
  /** A new password hash; every session token of the user is revoked with it (no_such_user if none). */
  setPassword: { args: [user: string, passwordHash: string]; result: null };
}

export type DbOp = keyof DbOps;
export type DbArgs<K extends DbOp> = DbOps[K]['args'];
export type DbResult<K extends DbOp> = DbOps[K]['result'];

/** One operation with its arguments, discriminated by `op`. */
export type DbCall = { [K in DbOp]: { op: K; args: DbArgs<K> } }[DbOp];

const OPS: Record<DbOp, { write: boolean; arity: number }> = {
  createUser: { write: true, arity: 2 },
  passwordHash: { write: false, arity: 1 },
  userExists: { write: false, arity: 1 },
  storeMessage: { write: true, arity: 4 },
  pending: { write: false, arity: 2 },
  markDelivered: { write: true, arity: 1 },
  history: { write: false, arity: 4 },
  createSession: { write: true, arity: 3 },
  resumeSession: { write: false, arity: 1 },
  revokeSession: { write: true, arity: 1 },
  revokeUserSessions: { write: true, arity: 1 },
  setPassword: { write: true, arity: 2 },
};

export function isWrite(op: DbOp): boolean {
  return OPS[op].write;
}

/**
 * A DbCall from what arrived over IPC (structured clone / JSON: untyped), or null when the op is
 * unknown or the argument count is wrong. The argument values were typed by the sending LinkDb.
 */
export function dbCallFrom(op: string, args: unknown[]): DbCall | null {
  if (!Object.hasOwn(OPS, op) || !Array.isArray(args) || args.length !== OPS[op as DbOp].arity) return null;
  return { op, args } as DbCall;
}
