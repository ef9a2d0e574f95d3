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
import { Pipelined } from './replies.ts';

export const LIST_MAX = 1_000; // WHO users, JOIN members
export const PENDING_MAX = 1_000; // stored messages sent per LOGIN; the rest come at the next one

/** What handlers need from the reactor that runs them. */
export interface HandlerContext {
  readonly router: Router;
  readonly db: Db;
  readonly scryptLogN: number | undefined;
  readonly limiter: RequestLimiter;
  readonly policy: Policy;
  /** Records `session` as the local owner of its user (LOGIN) — before the router hears of it. */
  adopt(session: Session, user: string): void;
  /** Undoes adopt() when LOGIN fails after it. */
  disown(session: Session): void;
  joinedLocally(session: Session, room: string): void;
  /** Sends the LOGIN backlog and the held live messages under flow control; false if the connection closed. */
  sendBacklog(session: Session, pending: StoredMessage[]): Promise<boolean>;
  leftLocally(session: Session, room: string): void;
}

/** Requests that draw on the user's token bucket (limits/policy.ts); REGISTER has its own. */
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
        this.ctx.limiter.spend('REGISTER', `#${s.id}`); // before LOGIN: the connection is the key
        return this.register(body);
      case Req.LOGIN:
        return this.login(s, body, re);
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
    }
    throw new WizzError('bad_request', `unknown request type ${type}`);
  }

  private async register(body: Body): Promise<Reply> {
    const user = v.userName(body, 'user');
    const password = v.password(body);
    // Cheap check first, so a taken name does not cost a hash; createUser still decides races.
    if (await this.userExists(user)) throw new WizzError('user_taken', `the name "${user}" is taken`);
    await this.ctx.db.createUser(user, await hashPassword(password, this.ctx.scryptLogN));
    this.knownUsers.add(user);
    return {};
  }

  private async login(s: Session, body: Body, re: v.RequestId): Promise<Reply> {
    if (s.state !== 'anon') throw new WizzError('bad_request', 'this connection is already logged in');
    const user = v.userName(body, 'user');
    const password = v.password(body);
    const address = s.conn.socket.remoteAddress ?? '?';
    this.ctx.limiter.checkLogin(user, address);
    const stored = await this.ctx.db.passwordHash(user);
    if (!(await verifyPassword(password, stored, this.ctx.scryptLogN))) {
      this.ctx.limiter.loginFailed(user, address);
      throw new WizzError('auth_failed', 'wrong user name or password');
    }
    if (!s.conn.isOpen || s.state !== 'anon') return null;
    this.ctx.adopt(s, user); // from here live messages for `user` are held in s.held
    let pending: StoredMessage[];
    try {
      await this.ctx.router.claim(user, s.id);
      pending = await this.ctx.db.pending(user, PENDING_MAX);
    } catch (err) {
      this.ctx.disown(s);
      throw err;
    }
    s.conn.send(Srv.OK, { re, user, pending: pending.length });
    // Paced by the reader; each message is marked delivered when written, never when queued.
    if (await this.ctx.sendBacklog(s, pending)) s.state = 'authed';
    return null;
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

/** At most LIST_MAX names, always including `me`. */
function capList(names: string[], me: string): string[] {
  if (names.length <= LIST_MAX) return names;
  const head = names.filter((n) => n !== me).slice(0, LIST_MAX - 1);
  return [...head, me].sort();
}
