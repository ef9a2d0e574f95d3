// The Hub of many hosts: the same operations as router/hub.ts, asynchronous and fallible, with the
// cluster-wide state in Redis and the events for this host's reactors arriving by pub/sub.
//
// - Who owns a user: an owner record with a fencing token (claim = one script: the newest claim
//   wins, the previous owner's host hears `replace` on its channel). Online users and room members
//   are sorted sets with score 0, so WHO and JOIN read them in name order.
// - One channel per host (dm, wizzed, replace) and one per room (room, presence). A host subscribes
//   to a room while it has local members there: one copy per message per host, fanned out here to
//   one event per reactor holding members other than the sender (local-table.ts).
// - Presence leases (lease.ts): a host that stops renewing is reaped by the first host to notice.
// - Redis restarted or unreachable for a while: ioredis reconnects and resubscribes; the host then
//   re-registers what it holds (resync.ts). Meanwhile every call fails fast with
//   LinkError('unavailable'): the command connection has no offline queue and a command timeout.
import { EventEmitter } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';
import { JOIN_MEMBERS_MAX, WIZZ_WINDOW_MS, type Emit } from '../router/hub.ts';
import { LinkError } from '../router/link.ts';
import type { JoinResult, RouteEvent, StoredMessage, WizzResult } from '../router/router.ts';
import { channels, keys, roomOfChannel } from './keys.ts';
import { Lease } from './lease.ts';
import { LocalTable } from './local-table.ts';
import type { LuaArg, LuaScript } from './lua.ts';
import { decode, encode } from './messages.ts';
import { resync, type ResyncReport } from './resync.ts';
import { RoomChannels } from './room-channels.ts';
import { redisTarget } from './redis-target.ts';
import { CLAIM, CLEAR_REAPED, DELIVER, JOIN, LEAVE, RELEASE, SAY, UNCLAIM, WIZZ } from './scripts.ts';
import { randomBytes } from 'node:crypto';

export interface RedisHubOptions {
  /** redis://HOST:PORT, or redis+sentinel://HOST:PORT,…/NAME (redis-target.ts) */
  url: string;
  /** This host's name in Redis (channel, lease) and in logs. Unique per live host. */
  nodeId: string;
  /** Hands an event to one of this host's reactors. */
  emit: Emit;
  /** A JOIN fails with limit_reached when the room holds this many others (default: no limit). */
  maxRoomMembers?: number;
  /** A host that has not renewed its lease for this long counts as dead (default 5000). */
  leaseMs?: number;
  log?: (line: string) => void;
  /** Every Redis command fails with `unavailable` after this long without an answer (default 2000). */
  commandTimeoutMs?: number;
  /** start() gives up when Redis is not reachable within this long (default 10000). */
  connectTimeoutMs?: number;
}

export interface RedisHubStats {
  nodeId: string;
  available: boolean;
  /** Users online on every host (as of the last lease renewal). */
  onlineCount: number;
  /** Users owned by this host's reactors. */
  localOnline: number;
  /** Room channels this host is subscribed to (rooms with local members or a JOIN under way). */
  roomChannels: number;
  /** Pub/sub messages this host's subscriber received, by kind ('bad': not decodable). */
  received: { dm: number; wizzed: number; replace: number; room: number; presence: number; bad: number };
  resyncs: number;
  /** Users of dead hosts this host took offline. */
  reaped: number;
  /** Redis calls that failed (each became `unavailable`, or was dropped for posts). */
  failures: number;
}

export interface RedisHubEvents {
  /** Both connections are back after a loss (a resync follows). */
  up: [];
  /** A connection was lost; every call fails with `unavailable` until `up`. */
  down: [reason: string];
  resynced: [report: ResyncReport];
  reaped: [node: string, users: number];
}

const DEFAULT_LEASE_MS = 5_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 2_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export class RedisHub extends EventEmitter<RedisHubEvents> {
  readonly nodeId: string;
  private readonly toReactor: Emit;
  private readonly log: (line: string) => void;
  private readonly maxRoomMembers: number;
  private readonly commandTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly cmd: Redis;
  private readonly sub: Redis;
  private readonly table = new LocalTable();
  private readonly channels: RoomChannels;
  private readonly lease: Lease;
  /** user → claims, joins and leaves in flight (see resync.ts). */
  private readonly busy = new Map<string, number>();
  /** user → claims in flight here. */
  private readonly claiming = new Map<string, number>();
  /**
   * user → fence → the session: `replace` messages that arrived before the reply of the claim they
   * replace (pub/sub and replies travel on different connections). Handed over after that reply.
   */
  private readonly replacedEarly = new Map<string, Map<number, { reactor: number; session: number }>>();
  /**
   * reactor:session → its claim in flight here. A release that arrives meanwhile cannot find the
   * session in the table yet: it marks the claim, and the claim's answer undoes it (no ghost).
   */
  private readonly inFlight = new Map<string, { user: string; released: boolean }>();
  /** The highest fence this host has seen: claims ask Redis for a higher one (fences never go back). */
  private fenceSeen = 0;
  /** Claim ids: unique per claim of this process, so UNCLAIM undoes exactly one claim. */
  private readonly incarnation = randomBytes(6).toString('hex');
  private claims = 0;
  private readonly received = { dm: 0, wizzed: 0, replace: 0, room: 0, presence: 0, bad: 0 };
  private counts = { resyncs: 0, reaped: 0, failures: 0 };
  private online = 0;
  private started = false;
  private closed = false;
  private wasDown = false;
  private resyncing: Promise<void> | null = null;
  private resyncAgain = false;
  private resyncFailed = false;
  /** The reaped marker this host has seen and is re-registering for (cleared in Redis after the resync). */
  private reapedSeen = '';
  /** The last connection error, for start()'s message. */
  private lastError = '';

  constructor(options: RedisHubOptions) {
    super();
    this.nodeId = options.nodeId;
    this.toReactor = options.emit;
    this.log = options.log ?? (() => {});
    this.maxRoomMembers = options.maxRoomMembers ?? Number.POSITIVE_INFINITY;
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const common: RedisOptions = {
      lazyConnect: true,
      enableOfflineQueue: false, // down means fail now, not "queue until it is back"
      maxRetriesPerRequest: 0, // a command in flight when the connection drops fails too
      commandTimeout: this.commandTimeoutMs,
      connectTimeout: Math.max(this.commandTimeoutMs, 1_000),
      retryStrategy: (times) => Math.min(times * 100, 1_000),
    };
    const target = redisTarget(options.url);
    const connect = (more: RedisOptions) => {
      const all = { ...target.options, ...common, ...more };
      return target.url === null ? new Redis(all) : new Redis(target.url, all);
    };
    this.cmd = connect({ connectionName: `wizz-${this.nodeId}` });
    this.sub = connect({ connectionName: `wizz-${this.nodeId}-sub`, autoResubscribe: true });
    this.channels = new RoomChannels(this.sub);
    this.lease = new Lease(this.cmd, this.nodeId, options.leaseMs ?? DEFAULT_LEASE_MS, {
      renewed: (existed, online, reaped) => {
        this.online = online;
        if (!this.started) return;
        if (reaped !== '' && reaped !== this.reapedSeen) {
          this.reapedSeen = reaped;
          this.log(`redis: another host took ${this.nodeId} for dead and its users offline; re-registering this host`);
          this.requestResync();
        } else if (!existed && !this.resyncing) {
          this.log(`redis: the lease of ${this.nodeId} had expired; re-registering this host`);
          this.requestResync();
        } else if (this.resyncFailed) this.requestResync();
      },
      reaped: (node, users) => {
        this.counts.reaped += users;
        this.log(`redis: host ${node} stopped renewing its lease; ${users} of its users taken offline`);
        this.emit('reaped', node, users);
      },
      failed: () => {
        this.counts.failures++;
      },
    });
    for (const [name, conn] of [['command', this.cmd], ['subscriber', this.sub]] as const) {
      conn.on('error', (err: Error) => {
        this.lastError = err.message; // reported once per loss by 'close' below
      });
      conn.on('close', () => this.connectionLost(name));
      conn.on('ready', () => this.connectionReady());
    }
    this.sub.on('message', (channel: string, payload: string) => this.onMessage(channel, payload));
  }

  /**
   * Connects both connections, listens on this host's channel, registers the lease and drops what a
   * previous run under the same node id left behind. Rejects with LinkError('unavailable') when
   * Redis cannot be reached within connectTimeoutMs (then nothing keeps running).
   */
  async start(): Promise<void> {
    try {
      this.cmd.connect().catch(() => {});
      this.sub.connect().catch(() => {});
      await this.bothReady();
      await this.sub.subscribe(channels.host(this.nodeId));
      await this.runResync(); // registers the lease first
      this.started = true;
      this.lease.start();
    } catch (err) {
      this.halt();
      throw unavailable(err);
    }
  }

  /** Stops the timers, lets peers reap what is left (deletes the lease), and closes both connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.lease.stop();
    const bounded = (p: Promise<unknown>) => withTimeout(p.catch(() => {}), this.commandTimeoutMs);
    // QUIT goes after the commands already sent: pending releases finish first.
    await bounded(this.cmd.del(keys.lease(this.nodeId)));
    await Promise.all([bounded(this.cmd.quit()), bounded(this.sub.quit())]);
    this.cmd.disconnect();
    this.sub.disconnect();
  }

  /** Stops at once, telling Redis nothing — as a killed process would (tests, fatal exits). */
  halt(): void {
    this.closed = true;
    this.lease.stop();
    this.cmd.disconnect();
    this.sub.disconnect();
  }

  /** Both connections are up. */
  get available(): boolean {
    return !this.closed && this.cmd.status === 'ready' && this.sub.status === 'ready';
  }

  /** Users online on every host, as of the last lease renewal (every leaseMs/3). */
  get onlineCount(): number {
    return this.online;
  }

  get localOnline(): number {
    return this.table.ownerCount;
  }

  stats(): RedisHubStats {
    return {
      nodeId: this.nodeId,
      available: this.available,
      onlineCount: this.online,
      localOnline: this.table.ownerCount,
      roomChannels: this.channels.size,
      received: { ...this.received },
      ...this.counts,
    };
  }

  /**
   * Makes this reactor's session the owner of `user` everywhere; an older session anywhere is
   * replaced. Rejects with `unavailable` when Redis did not answer in time — and then undoes the
   * claim in case the script runs after all (a stalled Redis runs what it was sent, later).
   */
  async claim(user: string, reactor: number, session: number): Promise<void> {
    const key = sessionKey(reactor, session);
    const flight = { user, released: false };
    const claimId = `${this.incarnation}.${++this.claims}`;
    this.inFlight.set(key, flight);
    this.busyAdd(user);
    count(this.claiming, user, +1);
    try {
      let fence: number;
      try {
        fence = Number(await this.runBefore(CLAIM, [user, this.nodeId, reactor, session, claimId, String(this.fenceSeen)]));
      } catch (err) {
        this.unclaim(user, claimId);
        throw err;
      }
      this.sawFence(fence);
      const early = this.replacedEarly.get(user);
      if (early?.delete(fence)) {
        // Replaced before we heard our own answer: as in the Hub, the claim succeeds and the
        // replace follows it (after the caller's reply went out).
        setImmediate(() => this.toReactor(reactor, { e: 'replace', user, session }));
        return;
      }
      if (flight.released) {
        // The session ended while Redis ran its claim: it must not stay online.
        this.unclaim(user, claimId);
        return;
      }
      for (const room of this.table.own(user, { reactor, session, fence })) this.channels.drop(room);
    } finally {
      if (this.inFlight.get(key) === flight) this.inFlight.delete(key);
      this.busyDone(user);
      if (count(this.claiming, user, -1) === 0) this.flushReplacedEarly(user);
    }
  }

  /**
   * The session ended: the user goes offline and leaves its rooms, unless a newer session owns it
   * already. Never rejects: if Redis cannot be told now, the next resync prunes the user.
   */
  async release(user: string, reactor: number, session: number): Promise<void> {
    const owner = this.table.ownedBy(user, reactor, session);
    if (!owner) {
      // Its claim is still in flight (a client that closed right after LOGIN): the claim's answer
      // undoes it. A claim that failed undid itself; a session that never claimed has nothing.
      const flight = this.inFlight.get(sessionKey(reactor, session));
      if (flight?.user === user) flight.released = true;
      return;
    }
    this.forget(user);
    try {
      await this.run(RELEASE, [user, this.nodeId, String(owner.fence)]);
    } catch {
      this.resyncFailed = true; // repaired by a resync (prune) once Redis answers again
    }
  }

  /** Undoes one claim if it still holds the user; sent after the CLAIM on the same connection. */
  private unclaim(user: string, claimId: string): void {
    this.busyAdd(user); // not pruned by a resync while this is in flight; pruned after if it fails
    this.run(UNCLAIM, [user, this.nodeId, claimId])
      .catch(() => {
        this.resyncFailed = true; // the next resync prunes what this host no longer holds
      })
      .finally(() => this.busyDone(user));
  }

  private sawFence(fence: number): void {
    if (fence > this.fenceSeen) this.fenceSeen = fence;
  }

  /** A reactor process died: its users go offline. */
  reactorGone(reactor: number): void {
    for (const [key, flight] of this.inFlight) if (key.startsWith(`${reactor}:`)) flight.released = true;
    for (const [user, owner] of this.table.usersOf(reactor)) void this.release(user, reactor, owner.session);
  }

  /** Hands a committed DM to the recipient's host if online. Never rejects: the store keeps it. */
  async deliver(msg: StoredMessage): Promise<void> {
    if (!this.available) return;
    try {
      await this.run(DELIVER, [msg.to, encode({ t: 'dm', msg })]);
    } catch {
      // stays pending in the store: delivered at the next LOGIN
    }
  }

  /** WIZZED unless the recipient is offline or the pair is within its window (held in Redis: all hosts). */
  async wizz(from: string, to: string, ts: number): Promise<WizzResult> {
    const payload = encode({ t: 'wizzed', to, from, ts });
    return (await this.runBefore(WIZZ, [from, to, ts, WIZZ_WINDOW_MS, payload])) as WizzResult;
  }

  /**
   * Makes the session a member (PRESENCE join to the others). Rejects with limit_reached when the
   * room holds maxRoomMembers others, session_replaced when the session no longer owns the user.
   */
  async join(room: string, user: string, reactor: number, session: number): Promise<JoinResult> {
    const owner = this.table.ownedBy(user, reactor, session);
    // No local owner: an empty fence never matches, so the script answers session_replaced — after
    // the limit check, in the Hub's order.
    const fence = owner ? String(owner.fence) : '';
    const max = Number.isFinite(this.maxRoomMembers) ? this.maxRoomMembers : -1;
    this.busyAdd(user);
    try {
      // Subscribed before the membership exists: no message published after it is missed here.
      await this.channels.hold(room).catch((err: unknown) => {
        throw unavailable(err);
      });
      let reply: [string, number?, string[]?];
      try {
        reply = (await this.runBefore(JOIN, [room, user, this.nodeId, fence, max, JOIN_MEMBERS_MAX])) as typeof reply;
      } catch (err) {
        this.channels.drop(room);
        throw err;
      }
      const [status, already, members] = reply;
      if (status !== 'ok') {
        this.channels.drop(room);
        if (status === 'limit_reached') throw new LinkError('limit_reached', `${room} is full`);
        throw new LinkError('session_replaced', 'this session was replaced by a newer login');
      }
      // Replaced while the script ran, or a member here already: the hold is not needed.
      if (!this.table.ownedBy(user, reactor, session) || !this.table.addMember(room, user, reactor)) this.channels.drop(room);
      return { members: members ?? [], already: already === 1 };
    } finally {
      this.busyDone(user);
    }
  }

  /** False when the session was not a member (or no longer owns the user). */
  async leave(room: string, user: string, reactor: number, session: number): Promise<boolean> {
    const owner = this.table.ownedBy(user, reactor, session);
    if (!owner) return false;
    // Off the local table before the script is sent, so a resync meanwhile does not re-add it.
    const wasHere = this.table.removeMember(room, user);
    this.busyAdd(user);
    try {
      const left = Number(await this.runBefore(LEAVE, [room, user, this.nodeId, String(owner.fence)])) === 1;
      if (wasHere) this.channels.drop(room);
      return left;
    } catch (err) {
      // Not told to Redis: still a member, as far as the reactor will know.
      if (wasHere && !(this.table.ownedBy(user, reactor, session) && this.table.addMember(room, user, reactor))) this.channels.drop(room);
      throw err;
    } finally {
      this.busyDone(user);
    }
  }

  /**
   * Publishes a room message to every host with members (this one included, for its other local
   * members). Only a member speaks, as in the Hub. Rejects with `unavailable` when not published.
   */
  async say(room: string, from: string, text: string, ts: number): Promise<void> {
    if (!this.table.isMember(room, from)) return;
    await this.runBefore(SAY, [channels.room(room), encode({ t: 'room', room, from, text, ts })]);
  }

  /** Online users on every host, or a room's members; sorted by name, at most `limit`. */
  async who(room: string | undefined, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    const key = room === undefined ? keys.online : keys.room(room);
    try {
      return await this.cmd.zrange(key, '0', String(limit - 1));
    } catch (err) {
      this.counts.failures++;
      throw unavailable(err);
    }
  }

  /**
   * Runs a script that changes what users see, with a deadline on Redis's clock: if Redis gets to
   * it only after this host has answered `unavailable` (Redis stalled past the command timeout),
   * the script does nothing and says 'late'. The margin leaves time for the answer to come back.
   */
  private async runBefore(script: LuaScript, args: LuaArg[]): Promise<unknown> {
    const margin = Math.min(250, this.commandTimeoutMs / 4);
    const deadline = Math.floor(this.lease.redisNow() + this.commandTimeoutMs - margin);
    const reply = await this.run(script, [...args, deadline]);
    if (reply === 'late') {
      this.counts.failures++;
      throw new LinkError('unavailable', 'Redis answered too late');
    }
    return reply;
  }

  private async run(script: LuaScript, args: LuaArg[]): Promise<unknown> {
    try {
      return await script.run(this.cmd, args);
    } catch (err) {
      this.counts.failures++;
      throw unavailable(err);
    }
  }

  /** No claim of `user` is in flight any more: hand over the replaces still waiting for one. */
  private flushReplacedEarly(user: string): void {
    const early = this.replacedEarly.get(user);
    if (!early) return;
    this.replacedEarly.delete(user);
    for (const { reactor, session } of early.values()) this.toReactor(reactor, { e: 'replace', user, session });
  }

  /** Drops a user this host no longer owns from the local table and its rooms' channels. */
  private forget(user: string): void {
    for (const room of this.table.disown(user)) this.channels.drop(room);
  }

  private onMessage(channel: string, payload: string): void {
    const m = decode(payload);
    if (!m) {
      this.received.bad++;
      return;
    }
    switch (m.t) {
      case 'room':
        this.received.room++;
        if (roomOfChannel(channel) === m.room) this.toRoom(m.room, m.from, { e: 'room', room: m.room, from: m.from, text: m.text, ts: m.ts });
        return;
      case 'presence':
        this.received.presence++;
        if (roomOfChannel(channel) === m.room) this.toRoom(m.room, m.user, { e: 'presence', room: m.room, user: m.user, event: m.event });
        return;
      case 'dm': {
        this.received.dm++;
        const owner = this.table.owner(m.msg.to);
        if (owner) this.toReactor(owner.reactor, { e: 'dm', msg: m.msg });
        return;
      }
      case 'wizzed': {
        this.received.wizzed++;
        const owner = this.table.owner(m.to);
        if (owner) this.toReactor(owner.reactor, { e: 'wizzed', to: m.to, from: m.from, ts: m.ts });
        return;
      }
      case 'replace': {
        this.received.replace++;
        this.sawFence(m.fence);
        const held = this.table.owner(m.user);
        if (held?.fence === m.fence) this.forget(m.user);
        else if (this.claiming.has(m.user) && (!held || held.fence < m.fence)) {
          // It replaces a claim of ours whose answer has not arrived yet: wait for it (see claim).
          let early = this.replacedEarly.get(m.user);
          if (!early) this.replacedEarly.set(m.user, (early = new Map()));
          early.set(m.fence, { reactor: m.reactor, session: m.session });
          return;
        }
        // Otherwise a newer local claim answered first, or the session is gone: just tell the reactor.
        this.toReactor(m.reactor, { e: 'replace', user: m.user, session: m.session });
        return;
      }
    }
  }

  /** One event per local reactor holding members of `room` other than `except`. */
  private toRoom(room: string, except: string, ev: RouteEvent): void {
    for (const reactor of this.table.reactorsOf(room, except)) this.toReactor(reactor, ev);
  }

  private connectionLost(name: string): void {
    if (!this.started || this.closed || this.wasDown) return;
    this.wasDown = true;
    this.log(`redis: ${name} connection lost; routing between hosts fails with "unavailable" until it is back`);
    this.emit('down', `${name} connection lost`);
  }

  private connectionReady(): void {
    if (!this.started || this.closed || !this.available) return;
    if (this.wasDown) {
      this.wasDown = false;
      this.log(`redis: connected again; re-registering ${this.table.ownerCount} users of ${this.nodeId}`);
      this.emit('up');
    }
    this.requestResync();
  }

  /** Runs a resync now, or once more after the one under way. */
  private requestResync(): void {
    if (this.closed) return;
    if (this.resyncing) {
      this.resyncAgain = true;
      return;
    }
    this.resyncing = (async () => {
      do {
        this.resyncAgain = false;
        try {
          await this.runResync();
        } catch (err) {
          this.resyncFailed = true; // the next lease renewal tries again
          this.log(`redis: re-registering failed (${(err as Error).message}); retrying`);
          break;
        }
      } while (this.resyncAgain && !this.closed);
      this.resyncing = null;
    })();
  }

  private async runResync(): Promise<void> {
    this.resyncFailed = false;
    await this.lease.beat();
    const report = await resync({
      redis: this.cmd,
      nodeId: this.nodeId,
      table: this.table,
      busy: this.busy,
      lost: (user, owner) => {
        if (this.table.owner(user)?.fence === owner.fence) this.forget(user);
        this.toReactor(owner.reactor, { e: 'replace', user, session: owner.session });
      },
    });
    if (this.reapedSeen !== '') await CLEAR_REAPED.run(this.cmd, [this.nodeId, this.reapedSeen]);
    this.channels.retryStale();
    this.counts.resyncs++;
    if (this.started) this.emit('resynced', report);
  }

  private busyAdd(user: string): void {
    count(this.busy, user, +1);
  }

  private busyDone(user: string): void {
    count(this.busy, user, -1);
  }

  private async bothReady(): Promise<void> {
    const deadline = Date.now() + this.connectTimeoutMs;
    while (!this.available) {
      if (Date.now() >= deadline) {
        throw new Error(`not reachable within ${this.connectTimeoutMs} ms${this.lastError ? ` (${this.lastError})` : ''}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

function sessionKey(reactor: number, session: number): string {
  return `${reactor}:${session}`;
}

/** Adds `delta` to a counter in a map (absent = 0, removed at 0); returns the new value. */
function count(map: Map<string, number>, key: string, delta: number): number {
  const n = (map.get(key) ?? 0) + delta;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
  return Math.max(n, 0);
}

function unavailable(err: unknown): LinkError {
  if (err instanceof LinkError) return err;
  return new LinkError('unavailable', `Redis: ${(err as Error).message}`);
}

function withTimeout(p: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}
