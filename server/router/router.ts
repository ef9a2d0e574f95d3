// The router: delivery across reactors. A reactor owns the users whose connections it holds and
// talks to every other reactor only through this interface. One implementation reaches the primary
// process (hub-router.ts); behind it sits either the in-memory Hub (one host) or the RedisHub
// (many hosts, server/cluster/) — which is why every method that can fail is asynchronous.

export interface StoredMessage {
  msgId: number;
  from: string;
  to: string;
  text: string;
  ts: number;
}

/** What the router hands to a reactor for the users it owns. */
export type RouteEvent =
  | { e: 'dm'; msg: StoredMessage }
  | { e: 'wizzed'; to: string; from: string; ts: number }
  | { e: 'room'; room: string; from: string; text: string; ts: number }
  | { e: 'presence'; room: string; user: string; event: 'join' | 'leave' }
  | { e: 'replace'; user: string; session: number };

export type WizzResult = 'delivered' | 'offline' | 'rate_limited';

export interface JoinResult {
  members: string[];
  /** The session was already a member: no PRESENCE was sent. */
  already: boolean;
}

export interface Router {
  /** Makes this reactor's `session` the owner of `user`; an older session anywhere is replaced. */
  claim(user: string, session: number): Promise<void>;
  /** The session ended: forget it (and its rooms) unless a newer session already replaced it. */
  release(user: string, session: number): void;
  /** Delivers a committed direct message to the recipient if online (else it waits in the DB). */
  deliver(msg: StoredMessage): void;
  /** Delivers WIZZED unless the recipient is offline or the sender→recipient pair is rate limited. */
  wizz(from: string, to: string, ts: number): Promise<WizzResult>;
  /**
   * Makes the session a member. `onJoined` runs as soon as the membership exists, before the
   * router hands over any event that follows it (so the caller records local membership in time
   * for the room's next frames); the promise settles later.
   */
  join(room: string, user: string, session: number, onJoined?: () => void): Promise<JoinResult>;
  /** False when the session was not a member. */
  leave(room: string, user: string, session: number): Promise<boolean>;
  /**
   * Fans ROOM out to the other members (membership was checked by the caller's reactor). Rejects
   * with LinkError('unavailable') when the message could not be routed (Redis down between hosts).
   */
  say(room: string, from: string, text: string, ts: number): Promise<void>;
  /** Online users, or a room's members; sorted, at most `limit`. */
  who(room: string | undefined, limit: number): Promise<string[]>;
  /**
   * Null when the router takes more requests now; otherwise a promise that resolves when it has
   * caught up (the reactor stops taking requests off its sessions meanwhile: backpressure).
   */
  whenReady(): Promise<void> | null;
  /** Registers the reactor's handler for events addressed to its users. */
  onEvent(handler: (ev: RouteEvent) => void): void;
}
