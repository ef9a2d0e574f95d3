// What this host holds, as RedisHub last confirmed it: the users its reactors own (with the fence
// of their claim) and their room memberships, with the reactor of each member. Redis has the global
// view; this table answers the questions asked per message without a round trip — which reactors
// get a room message, which reactor owns the recipient of a DM — and is what a resync re-registers.

export interface LocalOwner {
  reactor: number;
  session: number;
  fence: number;
}

export class LocalTable {
  private readonly owners = new Map<string, LocalOwner>();
  /** room → member → its reactor. */
  private readonly rooms = new Map<string, Map<string, number>>();
  private readonly userRooms = new Map<string, Set<string>>();

  get ownerCount(): number {
    return this.owners.size;
  }

  owner(user: string): LocalOwner | undefined {
    return this.owners.get(user);
  }

  /** The owner record when `session` of `reactor` owns `user`. */
  ownedBy(user: string, reactor: number, session: number): LocalOwner | undefined {
    const o = this.owners.get(user);
    return o && o.reactor === reactor && o.session === session ? o : undefined;
  }

  /**
   * Records a confirmed claim; an older local session of the user loses its memberships (the claim
   * dropped them in Redis). A claim older than the one held (a late reply) changes nothing.
   * Returns the rooms the user left here.
   */
  own(user: string, owner: LocalOwner): string[] {
    const held = this.owners.get(user);
    if (held && held.fence >= owner.fence) return [];
    this.owners.set(user, owner);
    return held ? this.dropMemberships(user) : [];
  }

  /** Forgets the user and its memberships; returns the rooms it left here. */
  disown(user: string): string[] {
    if (!this.owners.delete(user)) return [];
    return this.dropMemberships(user);
  }

  isMember(room: string, user: string): boolean {
    return this.rooms.get(room)?.has(user) ?? false;
  }

  /** False when the user was a member already. */
  addMember(room: string, user: string, reactor: number): boolean {
    let members = this.rooms.get(room);
    if (!members) this.rooms.set(room, (members = new Map()));
    if (members.has(user)) return false;
    members.set(user, reactor);
    let mine = this.userRooms.get(user);
    if (!mine) this.userRooms.set(user, (mine = new Set()));
    mine.add(room);
    return true;
  }

  /** False when the user was not a member. */
  removeMember(room: string, user: string): boolean {
    const members = this.rooms.get(room);
    if (!members?.delete(user)) return false;
    if (members.size === 0) this.rooms.delete(room);
    const mine = this.userRooms.get(user);
    mine?.delete(room);
    if (mine?.size === 0) this.userRooms.delete(user);
    return true;
  }

  /** The reactors holding members of `room` other than `except`: one event each. */
  reactorsOf(room: string, except: string): Set<number> {
    const reactors = new Set<number>();
    const members = this.rooms.get(room);
    if (members) for (const [user, reactor] of members) if (user !== except) reactors.add(reactor);
    return reactors;
  }

  roomsOf(user: string): string[] {
    return [...(this.userRooms.get(user) ?? [])];
  }

  /** Users owned by sessions of `reactor`. */
  usersOf(reactor: number): Array<[string, LocalOwner]> {
    return [...this.owners].filter(([, o]) => o.reactor === reactor);
  }

  /** Every owned user, for a resync. */
  allOwners(): Array<[string, LocalOwner]> {
    return [...this.owners];
  }

  get roomCount(): number {
    return this.rooms.size;
  }

  private dropMemberships(user: string): string[] {
    const left = this.roomsOf(user);
    for (const room of left) this.removeMember(room, user);
    return left;
  }
}
