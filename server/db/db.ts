// What a reactor asks of the database. Failures reject with a LinkError whose code is a protocol
// error code: user_taken, no_such_user, storage_full, unavailable.
import type { LinkClient } from '../router/link.ts';
import type { StoredMessage } from '../router/router.ts';

export interface Db {
  createUser(user: string, passwordHash: string): Promise<void>;
  /** The stored scrypt hash, or null for an unknown user. */
  passwordHash(user: string): Promise<string | null>;
  userExists(user: string): Promise<boolean>;
  /** Commits the message (durably) and returns its id and timestamp. */
  storeMessage(from: string, to: string, text: string): Promise<{ msgId: number; ts: number }>;
  /** Undelivered messages to `user`, oldest first. */
  pending(user: string, limit: number): Promise<StoredMessage[]>;
  markDelivered(msgIds: number[]): void;
  /** Messages between a and b, newest first, with msgId < before when given. */
  history(a: string, b: string, before: number | null, limit: number): Promise<StoredMessage[]>;
}

/** The ops the actor understands, by name; each takes the Db method's arguments in order. */
export type DbOp = keyof Db;

/** A Db reached through the primary (which forwards to the database actor). */
export class LinkDb implements Db {
  constructor(private readonly link: LinkClient) {}

  createUser(user: string, passwordHash: string): Promise<void> {
    return this.link.request('db', 'createUser', [user, passwordHash]);
  }
  passwordHash(user: string): Promise<string | null> {
    return this.link.request('db', 'passwordHash', [user]);
  }
  userExists(user: string): Promise<boolean> {
    return this.link.request('db', 'userExists', [user]);
  }
  storeMessage(from: string, to: string, text: string): Promise<{ msgId: number; ts: number }> {
    return this.link.request('db', 'storeMessage', [from, to, text]);
  }
  pending(user: string, limit: number): Promise<StoredMessage[]> {
    return this.link.request('db', 'pending', [user, limit]);
  }
  markDelivered(msgIds: number[]): void {
    this.link.post('db', 'markDelivered', [msgIds]);
  }
  history(a: string, b: string, before: number | null, limit: number): Promise<StoredMessage[]> {
    return this.link.request('db', 'history', [a, b, before, limit]);
  }
}
