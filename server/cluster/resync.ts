// Re-registering what this host holds, after Redis came back (restarted empty, or only unreachable
// for a while) or after this host was reaped while alive (it stalled past its lease): its users
// with their fences, their memberships, and nothing else — users Redis still lists under this host
// that it no longer holds (a release that could not reach Redis) go offline. Users replaced
// elsewhere meanwhile are reported back as lost. Each slice is one script, sent in order on the
// command connection, so it sees every operation sent before it.
import type { Redis } from 'ioredis';
import { keys } from './keys.ts';
import type { LocalOwner, LocalTable } from './local-table.ts';
import { PRUNE, RESYNC } from './scripts.ts';
import type { LuaArg } from './lua.ts';

/** Users per RESYNC script call, and names per PRUNE call: short scripts, few round trips. */
const SLICE = 500;

export interface ResyncContext {
  redis: Redis;
  nodeId: string;
  table: LocalTable;
  /**
   * Users with a claim, join or leave in flight: their memberships are only added (an extra one in
   * Redis may be a JOIN whose reply has not arrived yet), and they are never pruned.
   */
  busy: ReadonlyMap<string, number>;
  /** The user's owner record in Redis carries a newer fence than `owner`: it was replaced. */
  lost(user: string, owner: LocalOwner): void;
}

export interface ResyncReport {
  users: number;
  lost: number;
  pruned: number;
}

export async function resync(ctx: ResyncContext): Promise<ResyncReport> {
  const owners = ctx.table.allOwners();
  let lost = 0;
  for (let i = 0; i < owners.length; i += SLICE) {
    const slice = owners.slice(i, i + SLICE);
    const args: LuaArg[] = [ctx.nodeId];
    for (const [user, o] of slice) {
      const rooms = ctx.table.roomsOf(user);
      const exact = ctx.busy.has(user) ? 0 : 1;
      args.push(user, o.reactor, o.session, String(o.fence), exact, rooms.length, ...rooms);
    }
    const gone = (await RESYNC.run(ctx.redis, args)) as string[];
    const sent = new Map(slice);
    for (const user of gone) {
      const o = sent.get(user);
      if (o) {
        lost++;
        ctx.lost(user, o);
      }
    }
  }

  const listed = await ctx.redis.smembers(keys.nodeUsers(ctx.nodeId));
  const stale = listed.filter((u) => !ctx.table.owner(u) && !ctx.busy.has(u));
  let pruned = 0;
  for (let i = 0; i < stale.length; i += SLICE) {
    pruned += Number(await PRUNE.run(ctx.redis, [ctx.nodeId, ...stale.slice(i, i + SLICE)]));
  }
  return { users: owners.length, lost, pruned };
}
