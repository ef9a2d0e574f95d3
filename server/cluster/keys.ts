// Every name RedisHub uses in Redis, in one place: the keys (all under `wizz:`) and the pub/sub
// channels, for TypeScript and — as a generated preamble — for the Lua scripts, so both always
// agree. Names of users and rooms never contain ':' or '>' (protocol/validate.ts), so no two
// names collide.

export const PREFIX = 'wizz:';

/** The part of each per-name key before the name. */
const AT = {
  owner: `${PREFIX}u:`,
  userRooms: `${PREFIX}ur:`,
  room: `${PREFIX}room:`,
  nodeUsers: `${PREFIX}nu:`,
  lease: `${PREFIX}node:`,
  reaped: `${PREFIX}reaped:`,
  wizz: `${PREFIX}wz:`,
  hostChannel: `${PREFIX}h:`,
  roomChannel: `${PREFIX}r:`,
} as const;

export const keys = {
  /** Hash node, reactor, session, fence: who holds the user's session. */
  owner: (user: string) => AT.owner + user,
  /** The fencing counter: every claim takes the next value (one counter for all users). */
  fence: `${PREFIX}fence`,
  /** Sorted set, all scores 0 (so ordered by name): the users online on any host. */
  online: `${PREFIX}online`,
  /** Set: the rooms a user is a member of. */
  userRooms: (user: string) => AT.userRooms + user,
  /** Sorted set, all scores 0: a room's members. */
  room: (room: string) => AT.room + room,
  /** Set: the users a host owns (what a reaper takes offline when the host's lease expires). */
  nodeUsers: (node: string) => AT.nodeUsers + node,
  /** Set: the hosts that registered a lease. */
  nodes: `${PREFIX}nodes`,
  /** A host's presence lease (PX leaseMs), refreshed while the host lives. */
  lease: (node: string) => AT.lease + node,
  /** Set by the reaper when it took a host's users offline; cleared by that host's resync (the host must learn it). */
  reaped: (node: string) => AT.reaped + node,
  /** Redis's clock (ms) at the last heartbeat of any host: a long gap means Redis itself stalled. */
  lastBeat: `${PREFIX}lastbeat`,
  /** Until this time (Redis's clock, ms) nobody is reaped: every host gets a lease to beat again after a stall. */
  reapGrace: `${PREFIX}reapgrace`,
  /** When `from` last wizzed `to` (expires after the window). */
  wizz: (from: string, to: string) => `${AT.wizz}${from}>${to}`,
} as const;

export const channels = {
  /** One per host: dm, wizzed, replace for the users it owns. */
  host: (node: string) => AT.hostChannel + node,
  /** One per room: room messages and presence; hosts with local members subscribe. */
  room: (room: string) => AT.roomChannel + room,
} as const;

/** The room a room channel carries, or undefined for any other channel. */
export function roomOfChannel(channel: string): string | undefined {
  return channel.startsWith(AT.roomChannel) ? channel.slice(AT.roomChannel.length) : undefined;
}

/** The same names as Lua functions and constants, prepended to every script. */
export const LUA_NAMES = `
local K_FENCE = ${lua(keys.fence)}
local K_ONLINE = ${lua(keys.online)}
local K_NODES = ${lua(keys.nodes)}
local K_LAST_BEAT = ${lua(keys.lastBeat)}
local K_REAP_GRACE = ${lua(keys.reapGrace)}
local function k_owner(u) return ${lua(AT.owner)} .. u end
local function k_user_rooms(u) return ${lua(AT.userRooms)} .. u end
local function k_room(r) return ${lua(AT.room)} .. r end
local function k_node_users(n) return ${lua(AT.nodeUsers)} .. n end
local function k_lease(n) return ${lua(AT.lease)} .. n end
local function k_reaped(n) return ${lua(AT.reaped)} .. n end
local function k_wizz(f, t) return ${lua(AT.wizz)} .. f .. '>' .. t end
local function ch_host(n) return ${lua(AT.hostChannel)} .. n end
local function ch_room(r) return ${lua(AT.roomChannel)} .. r end
`;

function lua(s: string): string {
  return `'${s.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}
