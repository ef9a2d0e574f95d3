// Applies the Policy's token buckets to requests. Buckets live in the reactor, keyed by user name
// (or by connection for REGISTER, by address for logins), so a user who reconnects to the same
// reactor finds the bucket as they left it; with R reactors a user who hops between them can
// spend at most R bursts.
import { WizzError } from '../protocol/codes.ts';
import { TokenBuckets } from './token-bucket.ts';
import type { Policy } from './policy.ts';

export class RequestLimiter {
  private readonly requests: TokenBuckets;
  private readonly failedByName: TokenBuckets;
  private readonly failedByAddress: TokenBuckets;

  constructor(policy: Policy, now: () => number = Date.now) {
    this.requests = new TokenBuckets(policy.requests, now);
    this.failedByName = new TokenBuckets(policy.failedLoginsPerName, now);
    this.failedByAddress = new TokenBuckets(policy.failedLoginsPerAddress, now);
  }

  /** One SEND/SAY/JOIN by `user` (or REGISTER by a connection key); throws rate_limited when spent. */
  spend(what: string, key: string): void {
    if (this.requests.take(key)) return;
    throw new WizzError('rate_limited', `too many requests (${what}); try again in ${this.requests.retryInMs(key)} ms`);
  }

  /**
   * Before a LOGIN is checked: refused (rate_limited, the password is not even tried) while the
   * name or the address has used up its failed attempts.
   */
  checkLogin(user: string, address: string): void {
    const wait = Math.max(this.failedByName.retryInMs(user), this.failedByAddress.retryInMs(address));
    if (wait > 0) throw new WizzError('rate_limited', `too many failed logins; try again in ${Math.ceil(wait / 1000)} s`);
  }

  loginFailed(user: string, address: string): void {
    this.failedByName.spend(user);
    this.failedByAddress.spend(address);
  }
}
