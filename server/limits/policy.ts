// The limits that protect users from each other (not from the network: those are the reactor's
// connection bounds). Every one is a WIZZ_* variable and a flag (server/config.ts); the defaults
// are far above what a person or a well-behaved client does, so they never get in the way.
import type { BucketSpec } from './token-bucket.ts';
import { DEFAULT_HASH_GATE, type HashGateOptions } from './hash-gate.ts';
import { DEFAULT_SESSION_TTL_MS } from '../db/sessions.ts';

export interface Policy {
  /** A connection that has not logged in after this long is closed with `timeout`; 0 disables. */
  loginTimeoutMs: number;
  /** A connection that sent no frame for this long is closed with `timeout` (PING keeps it alive); 0 disables. */
  idleTimeoutMs: number;
  /** SEND, SAY and JOIN per user. */
  requests: BucketSpec;
  /** REGISTER per client address (it comes before a login; reconnecting does not refill it). */
  registersPerAddress: BucketSpec;
  /**
   * Failed LOGINs per user name from everywhere: past this allowance the name is being guessed,
   * and LOGINs for it from addresses that never logged in as it wait their turn in a slow lane
   * (`slowLoginsPerName`). Never a refusal for the owner: known addresses and RESUME go on.
   */
  failedLoginsPerName: BucketSpec;
  /** LOGINs per minute a guessed name admits from unknown addresses (one every 60/n s; a wait beyond 3 turns is `rate_limited`). */
  slowLoginsPerName: number;
  /** Failed LOGINs per (user name, client address): beyond, refused without trying the password. */
  failedLoginsPerNameAddress: BucketSpec;
  /** Failed LOGINs per client address, any name: beyond, refused without trying the password. */
  failedLoginsPerAddress: BucketSpec;
  /** Failed RESUMEs per client address: beyond, refused without a database read. */
  failedResumesPerAddress: BucketSpec;
  /** Rooms one session may be in at once. */
  maxRoomsPerUser: number;
  /** How long a session token from LOGIN stays valid (RESUME does not extend it). */
  sessionTtlMs: number;
  /** scrypt admission per reactor process (limits/hash-gate.ts). */
  hashGate: HashGateOptions;
}

const perMinute = (n: number): BucketSpec => ({ burst: n, refillPerS: n / 60 });

export const DEFAULT_POLICY: Policy = {
  loginTimeoutMs: 30_000,
  idleTimeoutMs: 300_000,
  requests: { burst: 500, refillPerS: 50 },
  registersPerAddress: perMinute(300),
  failedLoginsPerName: perMinute(20),
  slowLoginsPerName: 12,
  failedLoginsPerNameAddress: perMinute(10),
  failedLoginsPerAddress: { burst: 600, refillPerS: 10 },
  failedResumesPerAddress: perMinute(60),
  maxRoomsPerUser: 256,
  sessionTtlMs: DEFAULT_SESSION_TTL_MS,
  hashGate: DEFAULT_HASH_GATE,
};

/** Members one room may hold, cluster-wide (enforced by the Hub). */
export const DEFAULT_MAX_ROOM_MEMBERS = 10_000;
