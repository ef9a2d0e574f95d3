// The rules of each request. A handler returns the fields of its OK reply (or null when it replied
// itself) and throws WizzError/LinkError for an ERROR reply. It reaches other users only through
// the router and stored data only through the db.
import { Req, Srv, WizzError } from '../protocol/codes.ts';
import { MAX_FRAME_LENGTH } from '../protocol/frame.ts';
import * as v from '../protocol/validate.ts';
import { hashPassword, verifyPassword } from '../db/password.ts';
import type { Db } from '../db/db.ts';
import type { Router, StoredMessage } from '../router/router.ts';
import type { Session } from './session.ts';
import type { RequestLimiter } from '../limits/request-limiter.ts';
import type { Policy } from '../limits/policy.ts';
import { Pipelined, replyInTurn } from './replies.ts';
import type { HashGate } from '../limits/hash-gate.ts';
import { newToken, tokenHash } from '../db/sessions.ts';

export const LIST_MAX = 1_000; // WHO users, JOIN members
export const PENDING_MAX = 1_000; // stored messages sent per LOGIN; the rest come at the next one

/** What handlers need from the reactor that runs them. */
export interface HandlerContext {
  readonly router: Router;
  readonly db: Db;
  readonly scryptLogN: number | undefined;
  readonly limiter: RequestLimiter;
  readonly policy: Policy;
  /** Admits every scrypt (REGISTER, LOGIN, PASSWORD) fairly across client addresses. */
  readonly hashGate: HashGate;
  /** Records `session` as the local owner of its user (LOGIN) — before the router hears of it. */
  adopt(session: Session, user: string): void;
  /** Undoes adopt() when LOGIN fails after it. */
  disown(session: Session): void;
  joinedLocally(session: Session, room: string): void;
  /** Sends the LOGIN backlog and the held live messages under flow control; false if the connection closed. */
  sendBacklog(session: Session, pending: StoredMessage[]): Promise<boolean>;
  leftLocally(session: Session, room: string): void;
}

/** The one message of every failed LOGIN and RESUME: it does not say whether the name exists. */
const AUTH_FAILED = 'wrong user name or password';

/** Requests that draw on the user's token bucket (limits/policy.ts); REGISTER has its own, per address. */
const RATE_LIMITED: Partial<Record<number, string>> = { [Req.SEND]: 'SEND', [Req.SAY]: 'SAY', [Req.JOIN]: 'JOIN' };

type Body = Record<string, unknown>;
type Reply = Record<string, unknown> | null;


export class Handlers {
  private readonly knownUsers = new Set<string>(); // users are never deleted, so a yes is forever

  constructor(private readonly ctx: HandlerContext) {}

  /** The OK's fields; null when the handler replied itself; Pipelined when the reply comes later. */
  async handle(s: Session, type: number, body: Body, re: v.RequestId): Promise<Reply | Pipelined> {
    switch (type) {
      case Req.PING:
        return {};
      case Req.REGISTER:
        return this.register(s, body);
      case Req.LOGIN:
        return this.login(s, body, re);
      case Req.RESUME:
        return this.resume(s, body, re);
    }
    if (s.state !== 'authed' || s.user === null) throw new WizzError('unauthenticated', 'log in first');
    const me = s.user;
    const limited = RATE_LIMITED[type];
    if (limited) this.ctx.limiter.spend(limited, me);
    switch (type) {
      case Req.SEND:
        return this.send(me, body);
      case Req.WIZZ:
        return this.wizz(me, body);
      case Req.JOIN:
        return this.join(s, me, body);
      case Req.LEAVE:
        return this.leave(s, me, body);
      case Req.SAY:
        return this.say(s, me, body);
      case Req.WHO:
        return { users: await this.ctx.router.who(v.optionalRoom(body), LIST_MAX) };
      case Req.HISTORY:
        return this.history(me, body);
      case Req.LOGOUT:
        return this.logout(s, me, body, re);
      case Req.PASSWORD:
        return this.password(s, me, body);
    }
    throw new WizzError('bad_request', `unknown request type ${type}`);
  }

  private async register(s: Session, body: Body): Promise<Reply> {
    const user = v.userName(body, 'user');
    const password = v.password(body);
    // Cheap check first, so a taken name does not cost a hash; createUser still decides races.
    if (await this.userExists(user)) throw new WizzError('user_taken', `the name "${user}" is taken`);
    const address = addressOf(s);
    this.ctx.limiter.spendRegister(address); // per address: reconnecting does not refill it
    const hash = await this.scrypt(s, address, () => hashPassword(password, this.ctx.scryptLogN));
    await this.ctx.db.createUser(user, hash);
    this.knownUsers.add(user);
    this.ctx.limiter.succeeded(user, address);
    return {};
  }

  private async login(s: Session, body: Body, re: v.RequestId): Promise<Reply> {
    if (s.state !== 'anon') throw new WizzError('bad_request', 'this connection is already logged in');
    const user = v.userName(body, 'user');
    const password = v.password(body);
    const address = addressOf(s);
    await this.ctx.limiter.admitLogin(user, address);
    const stored = await this.ctx.db.passwordHash(user);
    if (!(await this.scrypt(s, address, () => verifyPassword(password, stored, this.ctx.scryptLogN)))) {
      this.ctx.limiter.loginFailed(user, address);
      throw new WizzError('auth_failed', AUTH_FAILED);
    }
    this.ctx.limiter.succeeded(user, address);
    if (!s.conn.isOpen || s.state !== 'anon') return null;
    const token = newToken();
    await this.enter(s, user, re, token, () => this.ctx.db.createSession(tokenHash(token), user, Date.now() + this.ctx.policy.sessionTtlMs));
    return null;
  }

  /** A session again from LOGIN's token: one SHA-256 and one indexed read, never scrypt. */
  private async resume(s: Session, body: Body, re: v.RequestId): Promise<Reply> {
    if (s.state !== 'anon') throw new WizzError('bad_request', 'this connection is already logged in');
    const token = v.sessionToken(body);
    const address = addressOf(s);
    this.ctx.limiter.checkResume(address);
    const hash = tokenHash(token);
    const user = await this.ctx.db.resumeSession(hash);
    if (user === null) {
      this.ctx.limiter.resumeFailed(address);
      throw new WizzError('auth_failed', AUTH_FAILED);
    }
    this.ctx.limiter.succeeded(user, address);
    if (!s.conn.isOpen || s.state !== 'anon') return null;
    await this.enter(s, user, re, token, null);
    return null;
  }

  /**
   * LOGIN's and RESUME's common end: `s` becomes `user`'s session (replacing an older one), the
   * OK carries the token, then the stored messages follow at the reader's pace.
   */
  private async enter(s: Session, user: string, re: v.RequestId, token: string, store: (() => Promise<void>) | null): Promise<void> {
    this.ctx.adopt(s, user); // from here live messages for `user` are held in s.held
    let pending: StoredMessage[];
    try {
      await this.ctx.router.claim(user, s.id);
      [pending] = await Promise.all([this.ctx.db.pending(user, PENDING_MAX), store?.()]);
    } catch (err) {
      this.ctx.disown(s);
      throw err;
    }
    s.tokenHash = tokenHash(token);
    s.conn.send(Srv.OK, { re, user, pending: pending.length, token });
    // Paced by the reader; each message is marked delivered when written, never when queued.
    if (await this.ctx.sendBacklog(s, pending)) s.state = 'authed';
  }

  /** Revokes this session's token (or all of the user's), says OK, and ends the connection. */
  private async logout(s: Session, me: string, body: Body, re: v.RequestId): Promise<Reply> {
    const all = v.optionalFlag(body, 'all');
    if (all) await this.ctx.db.revokeUserSessions(me);
    else if (s.tokenHash !== null) await this.ctx.db.revokeSession(s.tokenHash);
    s.tokenHash = null;
    replyInTurn(s, () => {
      s.conn.send(Srv.OK, { re });
      this.ctx.disown(s); // offline now, not when the socket has finished closing
      s.conn.end();
    });
    return null;
  }

  /** Checks the current password, stores the new one, revokes every token; a fresh one for this session. */
  private async password(s: Session, me: string, body: Body): Promise<Reply> {
    const current = v.password(body);
    const next = v.newPassword(body);
    const address = addressOf(s);
    await this.ctx.limiter.admitLogin(me, address);
    const stored = await this.ctx.db.passwordHash(me);
    if (!(await this.scrypt(s, address, () => verifyPassword(current, stored, this.ctx.scryptLogN)))) {
      this.ctx.limiter.loginFailed(me, address);
      throw new WizzError('auth_failed', AUTH_FAILED);
    }
    const hash = await this.scrypt(s, address, () => hashPassword(next, this.ctx.scryptLogN));
    await this.ctx.db.setPassword(me, hash); // revokes every token of the user, this one too
    const token = newToken();
    await this.ctx.db.createSession(tokenHash(token), me, Date.now() + this.ctx.policy.sessionTtlMs);
    s.tokenHash = tokenHash(token);
    return { token };
  }

  /** One scrypt through the gate: in turn with other addresses, dropped if the connection closes meanwhile. */
  private scrypt<T>(s: Session, address: string, job: () => Promise<T>): Promise<T> {
    return this.ctx.hashGate.run(address, job, () => s.conn.isOpen);
  }

  private async send(me: string, body: Body): Promise<Reply> {
    const to = v.userName(body, 'to');
    const text = v.text(body);
    const key = v.idempotencyKey(body);
    // What is delivered is what the store holds: on a retry with a key, the first send's message
    // (a retry that differs from it was refused as key_reused and reaches nobody).
    const { first: _first, ...stored } = await this.ctx.db.storeMessage(me, to, text, key);
    this.ctx.router.deliver(stored);
    return { msgId: stored.msgId, ts: stored.ts };
  }

  private async wizz(me: string, body: Body): Promise<Reply> {
    const to = v.userName(body, 'to');
    if (!(await this.userExists(to))) throw new WizzError('no_such_user', `no user "${to}"`);
    const result = await this.ctx.router.wizz(me, to, Date.now());
    if (result === 'rate_limited') throw new WizzError('rate_limited', `one wizz to ${to} per 5 seconds`);
    if (result === 'offline') throw new WizzError('offline', `${to} is not online`);
    return {};
  }

  private async join(s: Session, me: string, body: Body): Promise<Reply> {
    const room = v.room(body);
    if (!s.rooms.has(room) && s.rooms.size >= this.ctx.policy.maxRoomsPerUser) {
      throw new WizzError('limit_reached', `you are in ${s.rooms.size} rooms, the most allowed; leave one first`);
    }
    // Local membership is recorded when the router's answer arrives, before any event after it.
    const { members } = await this.ctx.router.join(room, me, s.id, () => this.ctx.joinedLocally(s, room));
    return { room, members: capList(members, me) };
  }

  private async leave(s: Session, me: string, body: Body): Promise<Reply> {
    const room = v.room(body);
    const was = await this.ctx.router.leave(room, me, s.id);
    this.ctx.leftLocally(s, room);
    if (!was) throw new WizzError('not_member', `you are not in ${room}`);
    return {};
  }

  /**
   * Routed now, in order with the session's next requests; its OK waits for the router's word
   * (across hosts: Redis took the PUBLISH) without holding those requests up (reactor/replies.ts).
   */
  private say(s: Session, me: string, body: Body): Pipelined {
    const room = v.room(body);
    const text = v.text(body);
    if (!s.rooms.has(room)) throw new WizzError('not_member', `join ${room} before saying something there`);
    const ts = Date.now();
    return new Pipelined(this.ctx.router.say(room, me, text, ts).then(() => ({ ts })));
  }

  private async history(me: string, body: Body): Promise<Reply> {
    const q = v.historyQuery(body);
    const rows = await this.ctx.db.history(me, q.with, q.before ?? null, q.limit);
    // A reply is one frame: keep the newest messages that fit in 64 KiB.
    let bytes = 64;
    const messages: StoredMessage[] = [];
    for (const m of rows) {
      bytes += Buffer.byteLength(JSON.stringify(m)) + 1;
      if (bytes > MAX_FRAME_LENGTH - 64) break;
      messages.push(m);
    }
    return { messages };
  }

  private async userExists(user: string): Promise<boolean> {
    if (this.knownUsers.has(user)) return true;
    const exists = await this.ctx.db.userExists(user);
    if (exists) {
      if (this.knownUsers.size > 100_000) this.knownUsers.clear();
      this.knownUsers.add(user);
    }
    return exists;
  }
}

/** The client's address, the key of the per-address limits. */
function addressOf(s: Session): string {
  return s.conn.socket.remoteAddress ?? '?';
}

/** At most LIST_MAX names, always including `me`. */
function capList(names: string[], me: string): string[] {
  if (names.length <= LIST_MAX) return names;
  const head = names.filter((n) => n !== me).slice(0, LIST_MAX - 1);
  return [...head, me].sort();
}
