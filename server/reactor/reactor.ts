// One reactor: a net.Server on libuv's epoll loop, its sessions, and the events the router brings
// for the users it owns. Bytes come in through Connection, become requests for Handlers, and
// replies and deliveries go out through the pool, encoded once per event.
import net from 'node:net';
import { CLOSING_CODES, Srv, WizzError, isRequestType, type ErrorCode } from '../protocol/codes.ts';
import type { Frame, FrameError } from '../protocol/frame.ts';
import { ID_MAX, requestId, type RequestId } from '../protocol/validate.ts';
import { FramePool, type PoolStats } from '../pool/frame-pool.ts';
import { LinkError } from '../router/link.ts';
import type { RouteEvent, Router, StoredMessage } from '../router/router.ts';
import type { Db } from '../db/db.ts';
import { Connection, Flusher, type ConnectionEvents } from './connection.ts';
import { Session } from './session.ts';
import { Handlers, type HandlerContext } from './handlers.ts';
import { PIPELINE_MAX, Pipelined, replyInTurn } from './replies.ts';
import { DEFAULT_POLICY, type Policy } from '../limits/policy.ts';
import { RequestLimiter } from '../limits/request-limiter.ts';
import { HashGate } from '../limits/hash-gate.ts';

export interface ReactorUsage {
  connections: number;
  /** Requests decoded and not yet answered, over all connections (each at most maxInboundFrames). */
  inboundFrames: number;
  /** Bytes queued or in socket buffers that the kernel has not taken yet, over all connections. */
  outboundBytes: number;
  pool: PoolStats;
}

/** Live direct messages kept for a session while its LOGIN backlog is being sent. */
const HELD_MAX = 1_000;

export interface ReactorLimits {
  maxConnections: number;
  maxOutboundBytes: number;
  maxInboundFrames: number;
  /** A stream the server paces (the LOGIN backlog) ends with slow_consumer after this long without progress (--stall-timeout). */
  maxStallMs: number;
  /**
   * Sockets this reactor may hold at once, refusals on their way out included: what its open-file
   * limit leaves (limits/fd-limit.ts socketBudget). Past it the kernel would drop the descriptors
   * the primary hands over and Node's cluster would stop handing this reactor any.
   */
  maxSockets: number;
}

export const DEFAULT_LIMITS: ReactorLimits = {
  maxConnections: 10_000,
  maxOutboundBytes: 1024 * 1024,
  maxInboundFrames: 64,
  maxStallMs: 60_000,
  maxSockets: Number.POSITIVE_INFINITY,
};

/** Descriptors kept under maxSockets for refusals: at the open-file limit, this many may be saying server_full at once. */
const REFUSING_MAX = 32;
/** The "at the open-file limit" line is logged at most this often. */
const FD_LOG_EVERY_MS = 10_000;

export interface ReactorOptions {
  router: Router;
  db: Db;
  limits?: Partial<ReactorLimits>;
  /** log2 of scrypt's N; lower only in tests. */
  scryptLogN?: number;
  log?: (line: string) => void;
  /** Login deadline, idle timeout, token buckets, rooms per user (limits/policy.ts). */
  policy?: Partial<Policy>;
  /**
   * Whether one more connection fits, given this reactor's count; by default the reactor's own
   * maxConnections. The cluster passes a check against the count of all reactors together.
   */
  admit?: (local: number) => boolean;
  /** Told this reactor's connection count whenever it changes (at most once per loop iteration). */
  onConnectionCount?: (count: number) => void;
}

export class Reactor implements HandlerContext {
  readonly router: Router;
  readonly db: Db;
  readonly scryptLogN: number | undefined;
  readonly pool = new FramePool();
  readonly policy: Policy;
  readonly limiter: RequestLimiter;
  readonly hashGate: HashGate;
  private readonly limits: ReactorLimits;
  private readonly admit: (local: number) => boolean;
  private readonly onConnectionCount: ((count: number) => void) | undefined;
  private readonly expiry: NodeJS.Timeout | null;
  private countReported = true;
  private readonly flusher = new Flusher();
  private readonly handlers: Handlers;
  /** Half-open allowed: a client's FIN ends its requests, not our replies to them (finishIfEnded). */
  private readonly server = net.createServer({ allowHalfOpen: true }, (socket) => this.accept(socket));
  private readonly sessions = new Map<number, Session>();
  private readonly users = new Map<string, Session>();
  private readonly rooms = new Map<string, Set<Session>>();
  private nextSessionId = 1;
  /** Refused sockets not yet closed (they still hold a descriptor). */
  private refusing = 0;
  private fdRefusals = 0;
  private fdLoggedAt = -Infinity;
  private draining = false;
  private delivered: number[] = [];
  private readonly log: (line: string) => void;
  /** One set of callbacks for every connection (a closure per connection would cost memory per idle connection). */
  private readonly sessionEvents: ConnectionEvents<Session> = {
    onFrame: (s, frame) => this.onFrame(s, frame),
    onBadFrame: (s, err) => this.badFrame(s, err.message),
    onError: (s, err) => this.log(`reactor: connection ${s.id} failed: ${(err as Error)?.stack ?? err}`),
    onEnd: (s) => this.finishIfEnded(s),
    onClose: (s) => this.onClose(s),
  };
  private readonly refusalEvents: ConnectionEvents<null> = {
    onFrame: () => {},
    onBadFrame: () => {},
    onError: () => {},
    onEnd: () => {}, // already closing
    onClose: () => this.refusing--,
  };

  constructor(options: ReactorOptions) {
    this.router = options.router;
    this.db = options.db;
    this.scryptLogN = options.scryptLogN;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.policy = { ...DEFAULT_POLICY, ...options.policy };
    this.limiter = new RequestLimiter(this.policy);
    this.hashGate = new HashGate(this.policy.hashGate);
    this.admit = options.admit ?? ((local) => local < this.limits.maxConnections);
    this.onConnectionCount = options.onConnectionCount;
    const deadlines = [this.policy.loginTimeoutMs, this.policy.idleTimeoutMs].filter((ms) => ms > 0);
    this.expiry = deadlines.length === 0 ? null : setInterval(() => this.expire(), Math.max(20, Math.min(1_000, ...deadlines.map((ms) => ms / 4))));
    this.expiry?.unref();
    this.log = options.log ?? ((line) => console.error(line));
    this.handlers = new Handlers(this);
    this.router.onEvent((ev) => this.onRouteEvent(ev));
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  /** What this reactor holds now: connections, requests waiting, bytes not yet written, its pool. */
  stats(): ReactorUsage {
    let inboundFrames = 0;
    let outboundBytes = 0;
    for (const s of this.sessions.values()) {
      inboundFrames += s.conn.inboundFrames;
      outboundBytes += s.conn.outboundBytes;
    }
    return { connections: this.sessions.size, inboundFrames, outboundBytes, pool: this.pool.stats };
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  /** Stops accepting, finishes the requests already received, flushes, and closes every socket. */
  async shutdown(timeoutMs = 5_000): Promise<void> {
    this.draining = true;
    if (this.expiry) clearInterval(this.expiry);
    // Stop reading: under load the requests would never run out. What was not read was never
    // acknowledged, so nothing the clients were told is lost.
    for (const s of this.sessions.values()) s.conn.socket.pause();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && [...this.sessions.values()].some((s) => s.busy || s.waiting > 0 || s.unsent > 0)) {
      await new Promise((r) => setTimeout(r, 10));
    }
    this.flushDelivered();
    for (const s of this.sessions.values()) s.conn.end();
    this.flusher.flushAll();
    while (Date.now() < deadline + 2_000 && this.sessions.size > 0) await new Promise((r) => setTimeout(r, 10));
    for (const s of this.sessions.values()) s.conn.socket.destroy();
    await closed;
  }

  // ── HandlerContext ────────────────────────────────────────────────────────────────────────────

  adopt(s: Session, user: string): void {
    s.user = user;
    s.state = 'logging_in';
    this.users.set(user, s); // an older local session of the same user is closed by the router's replace
  }

  disown(s: Session): void {
    if (s.user && this.users.get(s.user) === s) this.users.delete(s.user);
    if (s.user) this.router.release(s.user, s.id);
    s.user = null;
    s.state = 'anon';
    s.held = null;
  }

  joinedLocally(s: Session, room: string): void {
    if (!s.conn.isOpen) return;
    s.rooms.add(room);
    let members = this.rooms.get(room);
    if (!members) this.rooms.set(room, (members = new Set()));
    members.add(s);
  }

  leftLocally(s: Session, room: string): void {
    s.rooms.delete(room);
    const members = this.rooms.get(room);
    if (!members) return;
    members.delete(s);
    if (members.size === 0) this.rooms.delete(room);
  }

  /**
   * Sends a stored message; it is marked delivered only once its bytes were written to the socket
   * (a connection that closes or is cut off first leaves it for the next LOGIN).
   */
  sendStored(s: Session, msg: StoredMessage): void {
    s.conn.send(Srv.MESSAGE, msg, () => this.markDelivered([msg.msgId]));
  }

  /**
   * The LOGIN backlog, then the live messages held while it was read: each one waits until the
   * client has taken most of what was sent before, so a reader of any speed gets all of them and
   * one that stops reading or leaves holds at most half its outbound bound. Resolves false if the
   * connection closed first (what was not written stays undelivered).
   */
  async sendBacklog(s: Session, pending: StoredMessage[]): Promise<boolean> {
    const sent = new Set<number>();
    let i = 0;
    const next = (): StoredMessage | undefined => (i < pending.length ? pending[i++] : s.held?.shift());
    for (let m = next(); m !== undefined; m = next()) {
      if (sent.has(m.msgId)) continue; // committed before LOGIN read the backlog: already sent
      const writable = await s.conn.whenWritable(this.limits.maxStallMs);
      if (writable === 'stalled') s.conn.closeWithError('slow_consumer', 'you stopped reading your messages; disconnected');
      if (writable !== 'writable') return false;
      sent.add(m.msgId);
      this.sendStored(s, m);
    }
    return true;
  }

  /** Stored messages reached a socket: batch the "delivered" marks into one db request per tick. */
  markDelivered(msgIds: number[]): void {
    if (this.delivered.length === 0) setImmediate(() => this.flushDelivered());
    this.delivered.push(...msgIds);
  }

  // ── connections and requests ──────────────────────────────────────────────────────────────────

  private accept(socket: net.Socket): void {
    // Sessions may use the descriptors the refusals do not: together they stay within maxSockets.
    const atFdLimit = this.sessions.size >= this.limits.maxSockets - REFUSING_MAX;
    if (this.draining || atFdLimit || !this.admit(this.sessions.size)) {
      if (atFdLimit) this.atFdLimit();
      this.refuse(socket);
      return;
    }
    const session = new Session(this.nextSessionId++, new Connection(socket, this.pool, this.flusher, this.limits, this.sessionEvents));
    session.conn.owner = session;
    this.sessions.set(session.id, session);
    this.countChanged();
  }

  /**
   * server_full and close. A refusal holds its descriptor until the client has read it (at most
   * a second: GRACE_MS in connection.ts); where that would cross maxSockets — a flood at the
   * open-file limit — the socket is closed at once instead.
   */
  private refuse(socket: net.Socket): void {
    if (this.sessions.size + this.refusing >= this.limits.maxSockets) {
      socket.destroy();
      return;
    }
    this.refusing++;
    const conn = new Connection(socket, this.pool, this.flusher, this.limits, this.refusalEvents);
    conn.closeWithError('server_full', 'the server is at its connection limit; try again later');
  }

  /** Says so (at most every FD_LOG_EVERY_MS): an operator must hear that connections are being refused for descriptors. */
  private atFdLimit(): void {
    this.fdRefusals++;
    const now = performance.now();
    if (now - this.fdLoggedAt < FD_LOG_EVERY_MS) return;
    this.fdLoggedAt = now;
    this.log(
      `reactor: ${this.sessions.size} connections, as many as its open-file limit leaves room for (${this.limits.maxSockets} sockets): ` +
        `new ones get server_full (${this.fdRefusals} refused since the last such line) — raise the hard limit (ulimit -Hn, LimitNOFILE=) or run more reactors`,
    );
    this.fdRefusals = 0;
  }

  /** Reports the connection count once per loop iteration, however many connections came and went. */
  private countChanged(): void {
    if (!this.onConnectionCount || !this.countReported) return;
    this.countReported = false;
    setImmediate(() => {
      this.countReported = true;
      this.onConnectionCount!(this.sessions.size);
    });
  }

  /** Closes connections past the login deadline or idle too long (limits/policy.ts). */
  private expire(): void {
    const now = Date.now();
    const { loginTimeoutMs, idleTimeoutMs } = this.policy;
    for (const s of this.sessions.values()) {
      if (!s.conn.isOpen || s.busy) continue;
      if (loginTimeoutMs > 0 && s.state !== 'authed' && now - s.openedAt >= loginTimeoutMs) {
        s.conn.closeWithError('timeout', `log in within ${loginTimeoutMs / 1000} s of connecting`);
      } else if (idleTimeoutMs > 0 && now - s.lastFrameAt >= idleTimeoutMs) {
        s.conn.closeWithError('timeout', `no request for ${idleTimeoutMs / 1000} s (PING keeps a connection alive)`);
      }
    }
  }

  private onFrame(s: Session, frame: Frame): void {
    if (!s.conn.isOpen || s.badFrame !== null || this.draining) return;
    s.lastFrameAt = Date.now();
    if (!isRequestType(frame.type)) {
      this.badFrame(s, `unknown request type 0x${frame.type.toString(16).padStart(2, '0')}`);
      return;
    }
    (s.inbox ??= []).push(frame);
    if (!s.busy) this.pump(s).catch((err) => this.failed(s, err));
  }

  /** A bug while serving one session: log it and end that connection, never the reactor. */
  private failed(s: Session, err: unknown): void {
    this.log(`reactor: session ${s.id} failed: ${(err as Error)?.stack ?? err}`);
    s.busy = false;
    s.inbox = null;
    s.conn.destroy();
  }

  /** The stream lost its framing: answer what came before, then bad_frame and close. */
  private badFrame(s: Session, message: string): void {
    if (s.badFrame !== null) return;
    s.badFrame = message;
    s.conn.socket.pause();
    if (!s.busy) s.conn.closeWithError('bad_frame', message);
  }

  /** Handles a session's requests one at a time, in arrival order. */
  private async pump(s: Session): Promise<void> {
    s.busy = true;
    while (s.waiting > 0) {
      // Backpressure: while the primary is behind, requests wait here (and past the inbound
      // limit, in the socket), not in an ever-growing IPC queue.
      const congested = this.router.whenReady();
      if (congested) await congested;
      const frame = s.inbox?.shift();
      if (!frame) break; // the connection closed while we waited
      if (s.conn.isOpen) await this.handle(s, frame);
      s.conn.frameDone();
    }
    s.busy = false;
    s.inbox = null; // drained: an idle session keeps no queue
    if (s.badFrame !== null) s.conn.closeWithError('bad_frame', s.badFrame);
    else this.finishIfEnded(s);
  }

  /**
   * After the client's FIN: once every request read before it has been carried out and its reply
   * queued, in order (the pump is idle, no pipelined reply is outstanding), end our side too.
   * Called at the FIN, when the pump goes idle, and when the last pipelined reply went out.
   */
  private finishIfEnded(s: Session): void {
    if (!s.conn.peerEnded || !s.conn.isOpen || s.badFrame !== null || s.busy || s.waiting > 0) return;
    if (s.unsent > 0) {
      const again = () => this.finishIfEnded(s);
      void s.replyTail?.then(again, again);
      return;
    }
    s.conn.end();
  }

  private async handle(s: Session, frame: Frame): Promise<void> {
    const re = requestId(frame.body);
    let result: Record<string, unknown> | Pipelined | null;
    try {
      if (re === undefined) {
        throw new WizzError('bad_request', `field "id" must be a number or a well-formed string of at most ${ID_MAX} characters`);
      }
      result = await this.handlers.handle(s, frame.type, frame.body, re);
    } catch (err) {
      replyInTurn(s, () => this.refuseRequest(s, frame, re, err));
      return;
    }
    if (result instanceof Pipelined) {
      const send = result.reply.then(
        (reply) => () => this.answer(s, frame, re!, reply),
        (err: unknown) => () => this.refuseRequest(s, frame, re, err),
      );
      const sent = replyInTurn(s, send);
      if (s.unsent >= PIPELINE_MAX) await sent; // bounded: the next request waits for this one
      return;
    }
    const reply = result; // null: the handler replied itself (LOGIN)
    if (reply) replyInTurn(s, () => this.answer(s, frame, re!, reply));
  }

  /** OK with the handler's fields; one that cannot be encoded is a bug in a handler: it becomes an ERROR. */
  private answer(s: Session, frame: Frame, re: RequestId, reply: Record<string, unknown>): void {
    try {
      s.conn.send(Srv.OK, { re, ...reply });
    } catch (err) {
      this.refuseRequest(s, frame, re, err);
    }
  }

  /** ERROR for a refused request; anything but a WizzError or LinkError is a bug: logged, `unavailable`. */
  private refuseRequest(s: Session, frame: Frame, re: RequestId | undefined, err: unknown): void {
    let code: ErrorCode;
    let message: string;
    if (err instanceof WizzError || err instanceof LinkError) {
      code = err.code;
      message = err.message;
    } else {
      this.log(`reactor: request 0x${frame.type.toString(16)} failed: ${(err as Error).stack ?? err}`);
      code = 'unavailable';
      message = 'internal error; try again';
    }
    if (CLOSING_CODES.has(code)) s.conn.closeWithError(code, message, re);
    else s.conn.send(Srv.ERROR, re === undefined ? { code, message } : { re, code, message });
  }

  private onClose(s: Session): void {
    this.sessions.delete(s.id);
    this.countChanged();
    s.inbox = null;
    for (const room of s.roomList()) this.leftLocally(s, room);
    if (s.user !== null) {
      if (this.users.get(s.user) === s) this.users.delete(s.user);
      this.router.release(s.user, s.id); // a no-op in the hub if a newer session replaced this one
    }
  }

  // ── deliveries from the router ─────────────────────────────────────────────────────────────────

  /** One event that fails (a bug) is logged and skipped: it must not take the reactor down. */
  private onRouteEvent(ev: RouteEvent): void {
    try {
      this.routeEvent(ev);
    } catch (err) {
      this.log(`reactor: event ${ev.e} failed: ${(err as Error)?.stack ?? err}`);
    }
  }

  private routeEvent(ev: RouteEvent): void {
    switch (ev.e) {
      case 'dm': {
        const s = this.users.get(ev.msg.to);
        if (!s) return; // gone since: it stays undelivered in the db for the next LOGIN
        if (s.state === 'logging_in') {
          // Beyond the cap it stays undelivered in the db and comes at the next LOGIN.
          const held = (s.held ??= []);
          if (held.length < HELD_MAX) held.push(ev.msg);
        } else if (s.state === 'authed' && s.conn.isOpen) {
          this.sendStored(s, ev.msg);
        }
        return;
      }
      case 'wizzed': {
        const s = this.users.get(ev.to);
        if (s?.state === 'authed') s.conn.send(Srv.WIZZED, { from: ev.from, ts: ev.ts });
        return;
      }
      case 'room':
        this.fanOut(ev.room, ev.from, Srv.ROOM, { room: ev.room, from: ev.from, text: ev.text, ts: ev.ts });
        return;
      case 'presence':
        this.fanOut(ev.room, ev.user, Srv.PRESENCE, { room: ev.room, user: ev.user, event: ev.event });
        return;
      case 'replace': {
        const s = this.sessions.get(ev.session);
        if (!s || s.user !== ev.user) return;
        for (const room of s.roomList()) this.leftLocally(s, room);
        s.conn.closeWithError('session_replaced', 'you logged in somewhere else; this session is closed');
        return;
      }
    }
  }

  /** One encoding, written to every local member except `except`. */
  private fanOut(room: string, except: string, type: number, body: object): void {
    const members = this.rooms.get(room);
    if (!members) return;
    const frame = this.pool.encode(type, body);
    for (const m of members) if (m.user !== except) m.conn.sendFrame(frame);
    frame.release();
  }

  private flushDelivered(): void {
    if (this.delivered.length === 0) return;
    const ids = this.delivered;
    this.delivered = [];
    this.db.markDelivered(ids);
  }
}
