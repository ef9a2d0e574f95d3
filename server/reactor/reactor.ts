// One reactor: a net.Server on libuv's epoll loop, its sessions, and the events the router brings
// for the users it owns. Bytes come in through Connection, become requests for Handlers, and
// replies and deliveries go out through the pool, encoded once per event.
import net from 'node:net';
import { CLOSING_CODES, Srv, WizzError, isRequestType, type ErrorCode } from '../protocol/codes.ts';
import type { Frame, FrameError } from '../protocol/frame.ts';
import { requestId } from '../protocol/validate.ts';
import { FramePool } from '../pool/frame-pool.ts';
import { LinkError } from '../router/link.ts';
import type { RouteEvent, Router } from '../router/router.ts';
import type { Db } from '../db/db.ts';
import { Connection, Flusher } from './connection.ts';
import { Session } from './session.ts';
import { Handlers, type HandlerContext } from './handlers.ts';

export interface ReactorLimits {
  maxConnections: number;
  maxOutboundBytes: number;
  maxInboundFrames: number;
}

export const DEFAULT_LIMITS: ReactorLimits = {
  maxConnections: 10_000,
  maxOutboundBytes: 1024 * 1024,
  maxInboundFrames: 64,
};

export interface ReactorOptions {
  router: Router;
  db: Db;
  limits?: Partial<ReactorLimits>;
  /** log2 of scrypt's N; lower only in tests. */
  scryptLogN?: number;
  log?: (line: string) => void;
}

export class Reactor implements HandlerContext {
  readonly router: Router;
  readonly db: Db;
  readonly scryptLogN: number | undefined;
  readonly pool = new FramePool();
  private readonly limits: ReactorLimits;
  private readonly flusher = new Flusher();
  private readonly handlers: Handlers;
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly sessions = new Map<number, Session>();
  private readonly users = new Map<string, Session>();
  private readonly rooms = new Map<string, Set<Session>>();
  private nextSessionId = 1;
  private draining = false;
  private delivered: number[] = [];
  private readonly log: (line: string) => void;

  constructor(options: ReactorOptions) {
    this.router = options.router;
    this.db = options.db;
    this.scryptLogN = options.scryptLogN;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.log = options.log ?? ((line) => console.error(line));
    this.handlers = new Handlers(this);
    this.router.onEvent((ev) => this.onRouteEvent(ev));
  }

  get connectionCount(): number {
    return this.sessions.size;
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
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && [...this.sessions.values()].some((s) => s.busy || s.inbox.length > 0)) {
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
    s.held = [];
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

  /** Stored messages reached a socket: batch the "delivered" marks into one db request per tick. */
  markDelivered(msgIds: number[]): void {
    if (this.delivered.length === 0) setImmediate(() => this.flushDelivered());
    this.delivered.push(...msgIds);
  }

  // ── connections and requests ──────────────────────────────────────────────────────────────────

  private accept(socket: net.Socket): void {
    if (this.draining || this.sessions.size >= this.limits.maxConnections) {
      const conn = new Connection(socket, this.pool, this.flusher, this.limits, {
        onFrame: () => {},
        onBadFrame: () => {},
        onClose: () => {},
      });
      conn.closeWithError('server_full', 'the server is at its connection limit; try again later');
      return;
    }
    const id = this.nextSessionId++;
    let session: Session;
    const conn = new Connection(socket, this.pool, this.flusher, this.limits, {
      onFrame: (frame) => this.onFrame(session, frame),
      onBadFrame: (err) => this.badFrame(session, err.message),
      onClose: () => this.onClose(session),
    });
    session = new Session(id, conn);
    this.sessions.set(id, session);
  }

  private onFrame(s: Session, frame: Frame): void {
    if (!s.conn.isOpen || s.badFrame !== null) return;
    if (!isRequestType(frame.type)) {
      this.badFrame(s, `unknown request type 0x${frame.type.toString(16).padStart(2, '0')}`);
      return;
    }
    s.inbox.push(frame);
    if (!s.busy) void this.pump(s);
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
    while (s.inbox.length > 0) {
      const frame = s.inbox.shift()!;
      if (s.conn.isOpen) await this.handle(s, frame);
      s.conn.frameDone();
    }
    s.busy = false;
    if (s.badFrame !== null) s.conn.closeWithError('bad_frame', s.badFrame);
  }

  private async handle(s: Session, frame: Frame): Promise<void> {
    const re = requestId(frame.body);
    try {
      if (re === undefined) throw new WizzError('bad_request', 'missing field "id" (a string or a number)');
      const reply = await this.handlers.handle(s, frame.type, frame.body, re);
      if (reply) s.conn.send(Srv.OK, { re, ...reply });
    } catch (err) {
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
  }

  private onClose(s: Session): void {
    this.sessions.delete(s.id);
    s.inbox.length = 0;
    for (const room of [...s.rooms]) this.leftLocally(s, room);
    if (s.user !== null) {
      if (this.users.get(s.user) === s) this.users.delete(s.user);
      this.router.release(s.user, s.id); // a no-op in the hub if a newer session replaced this one
    }
  }

  // ── deliveries from the router ─────────────────────────────────────────────────────────────────

  private onRouteEvent(ev: RouteEvent): void {
    switch (ev.e) {
      case 'dm': {
        const s = this.users.get(ev.msg.to);
        if (!s) return; // gone since: it stays undelivered in the db for the next LOGIN
        if (s.state === 'logging_in') s.held.push(ev.msg);
        else if (s.state === 'authed' && s.conn.isOpen) {
          s.conn.send(Srv.MESSAGE, ev.msg);
          this.markDelivered([ev.msg.msgId]);
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
        for (const room of [...s.rooms]) this.leftLocally(s, room);
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
