// The Hub: the one cluster-wide view of who is online where and who is in which room. It lives in
// the primary process and is driven by one message at a time, so it needs no locks. It never
// touches sockets: it emits RouteEvents addressed to reactors.
import type { JoinResult, RouteEvent, StoredMessage, WizzResult } from './router.ts';
import { RateLimiter } from './rate-limit.ts';
import { SortedNames } from '../util/sorted-names.ts';

/** At most one wizz per sender→recipient per 5 s, cluster-wide (a sender may move between reactors). */
export const WIZZ_WINDOW_MS = 5_000;

interface Owner {
  reactor: number;
  session: number;
}

export type Emit = (reactor: number, ev: RouteEvent) => void;

/** Names a JOIN reply lists at most (the joiner always among them). */
export const JOIN_MEMBERS_MAX = 1_000;

export class Hub {
  private readonly owners = new Map<string, Owner>();
  /** room → user → owner of the membership (the session that joined). */
  private readonly rooms = new Map<string, Map<string, Owner>>();
  private readonly userRooms = new Map<string, Set<string>>();
  /** room → reactor → how many of the room's members it holds: a SAY finds its reactors without visiting every member. */
  private readonly roomReactors = new Map<string, Map<number, number>>();
  // Kept sorted as they change, so WHO and JOIN never sort every name on this one thread.
  private readonly online = new SortedNames();
  private readonly roomNames = new Map<string, SortedNames>();

  private readonly wizzLimit = new RateLimiter(WIZZ_WINDOW_MS);

  constructor(
    private readonly emit: Emit,
    private readonly maxRoomMembers = Number.POSITIVE_INFINITY,
  ) {}

  get onlineCount(): number {
    return this.owners.size;
  }

  claim(user: string, reactor: number, session: number): void {
    const old = this.owners.get(user);
    if (old) {
      this.dropMemberships(user);
      this.emit(old.reactor, { e: 'replace', user, session: old.session });
    }
    this.owners.set(user, { reactor, session });
    this.online.add(user);
  }

  release(user: string, reactor: number, session: number): void {
    if (!this.isOwner(user, reactor, session)) return; // replaced already
    this.dropMemberships(user);
    this.owners.delete(user);
    this.online.delete(user);
  }

  /** A reactor process died: everything it owned is gone. */
  reactorGone(reactor: number): void {
    for (const [user, owner] of [...this.owners]) {
      if (owner.reactor === reactor) this.release(user, owner.reactor, owner.session);
    }
  }

  deliver(msg: StoredMessage): void {
    const owner = this.owners.get(msg.to);
    if (owner) this.emit(owner.reactor, { e: 'dm', msg });
  }

  wizz(from: string, to: string, ts: number): WizzResult {
    const key = `${from}>${to}`;
    if (!this.wizzLimit.allows(key, ts)) return 'rate_limited';
    const owner = this.owners.get(to);
    if (!owner) return 'offline';
    this.wizzLimit.record(key, ts);
    this.emit(owner.reactor, { e: 'wizzed', to, from, ts });
    return 'delivered';
  }

  /** False when `room` holds maxRoomMembers others already (a member may always re-join). */
  canJoin(room: string, user: string): boolean {
    const members = this.rooms.get(room);
    return !members || members.has(user) || members.size < this.maxRoomMembers;
  }

  join(room: string, user: string, reactor: number, session: number): JoinResult | null {
    if (!this.isOwner(user, reactor, session)) return null; // a replaced session's late request
    let members = this.rooms.get(room);
    if (!members) this.rooms.set(room, (members = new Map()));
    let names = this.roomNames.get(room);
    if (!names) this.roomNames.set(room, (names = new SortedNames()));
    const already = members.has(user);
    if (!already) {
      this.emitToRoom(room, user, { e: 'presence', room, user, event: 'join' });
      members.set(user, { reactor, session });
      this.countMember(room, reactor, +1);
      names.add(user);
      let mine = this.userRooms.get(user);
      if (!mine) this.userRooms.set(user, (mine = new Set()));
      mine.add(room);
    }
    const listed = names.first(JOIN_MEMBERS_MAX);
    if (!listed.includes(user)) listed[listed.length - 1] = user; // the joiner sorts after all listed
    return { members: listed, already };
  }

  leave(room: string, user: string, reactor: number, session: number): boolean {
    if (!this.isOwner(user, reactor, session)) return false;
    return this.removeMember(room, user);
  }

  say(room: string, from: string, text: string, ts: number): void {
    if (!this.rooms.get(room)?.has(from)) return;
    this.emitToRoom(room, from, { e: 'room', room, from, text, ts });
  }

  who(room: string | undefined, limit: number): string[] {
    const names = room === undefined ? this.online : this.roomNames.get(room);
    return names?.first(limit) ?? [];
  }

  private isOwner(user: string, reactor: number, session: number): boolean {
    const owner = this.owners.get(user);
    return owner !== undefined && owner.reactor === reactor && owner.session === session;
  }

  private dropMemberships(user: string): void {
    for (const room of [...(this.userRooms.get(user) ?? [])]) this.removeMember(room, user);
    this.userRooms.delete(user);
  }

  private removeMember(room: string, user: string): boolean {
    const members = this.rooms.get(room);
    const owner = members?.get(user);
    if (!members || !owner) return false;
    members.delete(user);
    this.countMember(room, owner.reactor, -1);
    this.roomNames.get(room)?.delete(user);
    this.userRooms.get(user)?.delete(room);
    if (members.size === 0) {
      this.rooms.delete(room);
      this.roomNames.delete(room);
    }
    else this.emitToRoom(room, user, { e: 'presence', room, user, event: 'leave' });
    return true;
  }

  /**
   * One event per reactor that holds members other than `except` (never one per member); each
   * reactor fans it out to its local members, skipping `except`.
   */
  private emitToRoom(room: string, except: string, ev: RouteEvent): void {
    const counts = this.roomReactors.get(room);
    if (!counts) return;
    const exceptOn = this.rooms.get(room)?.get(except)?.reactor;
    for (const [reactor, n] of counts) if (n > (reactor === exceptOn ? 1 : 0)) this.emit(reactor, ev);
  }

  private countMember(room: string, reactor: number, delta: 1 | -1): void {
    let counts = this.roomReactors.get(room);
    if (!counts) this.roomReactors.set(room, (counts = new Map()));
    const n = (counts.get(reactor) ?? 0) + delta;
    if (n > 0) counts.set(reactor, n);
    else counts.delete(reactor);
    if (counts.size === 0) this.roomReactors.delete(room);
  }
}
