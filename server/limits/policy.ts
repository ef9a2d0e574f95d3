// The limits that protect users from each other (not from the network: those are the reactor's
// connection bounds). Every one is a WIZZ_* variable and a flag (server/config.ts); the defaults
// are far above what a person or a well-behaved client does, so they never get in the way.
import type { BucketSpec } from './token-bucket.ts';

export interface Policy {
  /** A connection that has not logged in after this long is closed with `timeout`; 0 disables. */
  loginTimeoutMs: number;
  /** A connection that sent no frame for this long is closed with `timeout` (PING keeps it alive); 0 disables. */
  idleTimeoutMs: number;
  /** SEND, SAY and JOIN per user; REGISTER per connection (it comes before a login). */
  requests: BucketSpec;
  /** Failed LOGINs per user name (wrong password) … */
  failedLoginsPerName: BucketSpec;
  /** … and per client address. */
  failedLoginsPerAddress: BucketSpec;
  /** Rooms one session may be in at once. */
  maxRoomsPerUser: number;
}

export const DEFAULT_POLICY: Policy = {
  loginTimeoutMs: 30_000,
  idleTimeoutMs: 300_000,
  requests: { burst: 500, refillPerS: 50 },
  failedLoginsPerName: { burst: 20, refillPerS: 20 / 60 },
  failedLoginsPerAddress: { burst: 600, refillPerS: 10 },
  maxRoomsPerUser: 256,
};

/** Members one room may hold, cluster-wide (enforced by the Hub). */
export const DEFAULT_MAX_ROOM_MEMBERS = 10_000;
