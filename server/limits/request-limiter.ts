// Applies the Policy's token buckets to requests. Buckets live in the reactor, keyed by user name
// (or by address for REGISTER and failed logins), so a user who reconnects to the same reactor
// finds the bucket as they left it; with R reactors a user who hops between them can spend at
// most R bursts.
//
// Failed logins follow OWASP's Authentication Cheat Sheet: counted per (name, address) and per
// address — both refuse without trying the password — and per name from everywhere, which only
// *slows* LOGINs for that name from addresses that never logged in as it. A stranger can make
// guessing alice's password slow; they cannot lock alice out: her own address (known from an
// earlier success) and her session token (RESUME) are never slowed.
import { WizzError } from '../protocol/codes.ts';
import { TokenBuckets } from './token-bucket.ts';
import type { Policy } from './policy.ts';

/** Addresses remembered per name as having logged in (the oldest is forgotten beyond this). */
const KNOWN_PER_NAME = 16;
/** Names whose known addresses are remembered (the least recent is forgotten beyond this). */
const KNOWN_NAMES = 100_000;
/** The slow lane admits a login up to this many turns ahead; beyond, rate_limited. */
const SLOW_TURNS_AHEAD = 3;

export type Sleep = (ms: number) => Promise<void>;
const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class RequestLimiter {
  private readonly requests: TokenBuckets;
  private readonly registers: TokenBuckets;
  private readonly failedByName: TokenBuckets;
  private readonly failedByNameAddress: TokenBuckets;
  private readonly failedByAddress: TokenBuckets;
  private readonly failedResumes: TokenBuckets;
  /** Per name: the addresses that logged in (or registered, or resumed) as it. */
  private readonly known = new Map<string, string[]>();
  /** Per guessed name: when the slow lane admits its next login. */
  private readonly slowNext = new Map<string, number>();
  private readonly slowIntervalMs: number;

  constructor(
    policy: Policy,
    private readonly now: () => number = Date.now,
    private readonly wait: Sleep = sleep,
  ) {
    this.requests = new TokenBuckets(policy.requests, now);
    this.registers = new TokenBuckets(policy.registersPerAddress, now);
    this.failedByName = new TokenBuckets(policy.failedLoginsPerName, now);
    this.failedByNameAddress = new TokenBuckets(policy.failedLoginsPerNameAddress, now);
    this.failedByAddress = new TokenBuckets(policy.failedLoginsPerAddress, now);
    this.failedResumes = new TokenBuckets(policy.failedResumesPerAddress, now);
    this.slowIntervalMs = policy.slowLoginsPerName > 0 ? 60_000 / policy.slowLoginsPerName : 0;
  }

  /** One SEND/SAY/JOIN by `user`; throws rate_limited when spent. */
  spend(what: string, key: string): void {
    if (this.requests.take(key)) return;
    throw new WizzError('rate_limited', `too many requests (${what}); try again in ${this.requests.retryInMs(key)} ms`);
  }

  /** One REGISTER from `address` (the account is about to be hashed and created). */
  spendRegister(address: string): void {
    if (this.registers.take(address)) return;
    throw new WizzError('rate_limited', `too many accounts created from your address; try again in ${secondsUntil(this.registers.retryInMs(address))} s`);
  }

  /**
   * Before a password is checked (LOGIN, PASSWORD). Refused (rate_limited, the password is not
   * tried) while this address has used up its failures for the name or for all names. When the
   * name itself has failed too often from everywhere and this address never logged in as it,
   * waits for the name's slow lane — a bounded wait, then rate_limited.
   */
  async admitLogin(user: string, address: string): Promise<void> {
    const pair = pairKey(user, address);
    const refusedFor = Math.max(this.failedByNameAddress.retryInMs(pair), this.failedByAddress.retryInMs(address));
    if (refusedFor > 0) throw new WizzError('rate_limited', `too many failed logins; try again in ${secondsUntil(refusedFor)} s`);
    if (this.slowIntervalMs === 0 || this.failedByName.retryInMs(user) === 0 || this.isKnown(user, address)) return;
    const now = this.now();
    const turn = Math.max(now, this.slowNext.get(user) ?? 0);
    if (turn - now > SLOW_TURNS_AHEAD * this.slowIntervalMs) {
      throw new WizzError(
        'rate_limited',
        `"${user}" has had many failed logins; from a new address its logins are slowed: try again in ${secondsUntil(turn - now)} s`,
      );
    }
    this.slowNext.set(user, turn + this.slowIntervalMs);
    if (this.slowNext.size > KNOWN_NAMES) this.pruneSlowLane(now);
    if (turn > now) await this.wait(turn - now);
  }

  loginFailed(user: string, address: string): void {
    this.failedByName.spend(user);
    this.failedByNameAddress.spend(pairKey(user, address));
    this.failedByAddress.spend(address);
  }

  /** A LOGIN, REGISTER or RESUME that proved `address` speaks for `user`: it is never slowed for that name. */
  succeeded(user: string, address: string): void {
    let list = this.known.get(user);
    if (list) this.known.delete(user); // re-inserted below: the map's order is least recent first
    else list = [];
    if (!list.includes(address)) {
      list.push(address);
      if (list.length > KNOWN_PER_NAME) list.shift();
    }
    this.known.set(user, list);
    if (this.known.size > KNOWN_NAMES) this.known.delete(this.known.keys().next().value!);
  }

  /** Before a RESUME reads the database: refused while this address has failed too many. */
  checkResume(address: string): void {
    const wait = this.failedResumes.retryInMs(address);
    if (wait > 0) throw new WizzError('rate_limited', `too many failed resumes; try again in ${secondsUntil(wait)} s`);
  }

  resumeFailed(address: string): void {
    this.failedResumes.spend(address);
  }

  isKnown(user: string, address: string): boolean {
    return this.known.get(user)?.includes(address) ?? false;
  }

  private pruneSlowLane(now: number): void {
    for (const [name, at] of this.slowNext) if (at <= now) this.slowNext.delete(name);
  }
}

function pairKey(user: string, address: string): string {
  return `${user} ${address}`;
}

function secondsUntil(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
