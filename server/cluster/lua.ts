// Runs a Lua script by its SHA1 (EVALSHA: the source crosses the wire once per Redis), falling
// back to EVAL when Redis does not know it yet — on first use, and after Redis restarted empty.
// What ioredis's defineCommand does, with the arguments and results typed by the caller.
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export type LuaArg = string | number;

export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  /** Scripts here take every name from ARGV and compute their keys (one Redis, not Redis Cluster). */
  async run(redis: Redis, args: LuaArg[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, 0, ...args);
    } catch (err) {
      if (!String((err as Error).message).startsWith('NOSCRIPT')) throw err;
      return await redis.eval(this.source, 0, ...args);
    }
  }
}
