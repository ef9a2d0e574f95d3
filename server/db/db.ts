// What a reactor asks of the database. Failures reject with a LinkError whose code is a protocol
// error code: user_taken, no_such_user, key_reused, storage_full, unavailable.
import type { LinkClient } from '../router/link.ts';
import type { StoredMessage } from '../router/router.ts';
import type { DbArgs, DbOp, DbResult, StoreResult } from './ops.ts';

export interface Db {
  createUser(user: string, passwordHash: string): Promise<void>;
  /** The stored scrypt hash, or null for an unknown user. */
  passwordHash(user: string): Promise<string | null>;
  userExists(user: string): Promise<boolean>;
  /**
   * Commits the message (durably) and returns it as stored. With a `key` the sender chose, a
   * second call with the same key, `to` and `text` stores nothing and returns the first call's
   * stored message; with the same key and another `to` or `text` it fails with `key_reused`.
   */
  storeMessage(from: string, to: string, text: string, key?: string | null): Promise<StoreResult>;
  /** Undelivered messages to `user`, oldest first. */
  pending(user: string, limit: number): Promise<StoredMessage[]>;
  markDelivered(msgIds: number[]): void;
  /** Messages between a and b, newest first, with msgId < before when given. */
  history(a: string, b: string, before: number | null, limit: number): Promise<StoredMessage[]>;
  /** Stores a session token's SHA-256 (hex) for `user` until `expires` (ms since the epoch). */
  createSession(tokenHash: string, user: string, expires: number): Promise<void>;
  /** The user of an unexpired, unrevoked session token, or null. */
  resumeSession(tokenHash: string): Promise<string | null>;
  revokeSession(tokenHash: string): Promise<void>;
  revokeUserSessions(user: string): Promise<void>;
  /** Replaces the password hash and revokes every session token of the user. */
  setPassword(user: string, passwordHash: string): Promise<void>;
}

export type { DbOp } from './ops.ts';

/** A Db reached through the primary (which forwards to the database actor). */
export class LinkDb implements Db {
  constructor(private readonly link: LinkClient) {}

  // The only two places an op name meets the link: both typed by DbOps, so a wrong name or
  // argument list does not compile.
  private request<K extends DbOp>(op: K, args: DbArgs<K>): Promise<DbResult<K>> {
    return this.link.request('db', op, args);
  }
  private post<K extends DbOp>(op: K, args: DbArgs<K>): void {
    this.link.post('db', op, args);
  }

  async createUser(user: string, passwordHash: string): Promise<void> {
    await this.request('createUser', [user, passwordHash]);
  }
  passwordHash(user: string): Promise<string | null> {
    return this.request('passwordHash', [user]);
  }
  userExists(user: string): Promise<boolean> {
    return this.request('userExists', [user]);
  }
  storeMessage(from: string, to: string, text: string, key: string | null = null): Promise<StoreResult> {
    return this.request('storeMessage', [from, to, text, key]);
  }
  pending(user: string, limit: number): Promise<StoredMessage[]> {
    return this.request('pending', [user, limit]);
  }
  markDelivered(msgIds: number[]): void {
    this.post('markDelivered', [msgIds]);
  }
  history(a: string, b: string, before: number | null, limit: number): Promise<StoredMessage[]> {
    return this.request('history', [a, b, before, limit]);
  }
  async createSession(tokenHash: string, user: string, expires: number): Promise<void> {
    await this.request('createSession', [tokenHash, user, expires]);
  }
  resumeSession(tokenHash: string): Promise<string | null> {
    return this.request('resumeSession', [tokenHash]);
  }
  async revokeSession(tokenHash: string): Promise<void> {
    await this.request('revokeSession', [tokenHash]);
  }
  async revokeUserSessions(user: string): Promise<void> {
    await this.request('revokeUserSessions', [user]);
  }
  async setPassword(user: string, passwordHash: string): Promise<void> {
    await this.request('setPassword', [user, passwordHash]);
  }
}
