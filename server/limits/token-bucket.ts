// Token buckets keyed by name: each key may spend `burst` at once and earns `refillPerS` back per
// second. A refill of 0 disables the limit (every take succeeds). Full buckets are forgotten, so
// the map holds only keys that spent recently.
export interface BucketSpec {
  burst: number;
  refillPerS: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private pruneAt = 1_024;

  constructor(
    private readonly spec: BucketSpec,
    private readonly now: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.spec.refillPerS > 0 && this.spec.burst > 0;
  }

  /** Spends one token for `key`; false when the bucket is empty (nothing is spent then). */
  take(key: string): boolean {
    return this.retryInMs(key) === 0 && this.spend(key);
  }

  /** 0 when `key` has a token now, else the milliseconds until it will. */
  retryInMs(key: string): number {
    if (!this.enabled) return 0;
    const tokens = this.level(key, this.now());
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / this.spec.refillPerS) * 1000);
  }

  /** Spends one token (used after the fact, e.g. for a failed login). */
  spend(key: string): boolean {
    if (!this.enabled) return true;
    const now = this.now();
    const tokens = this.level(key, now);
    if (tokens < 1) return false;
    this.buckets.set(key, { tokens: tokens - 1, at: now });
    if (this.buckets.size >= this.pruneAt) this.prune(now);
    return true;
  }

  get size(): number {
    return this.buckets.size;
  }

  private level(key: string, now: number): number {
    const b = this.buckets.get(key);
    if (!b) return this.spec.burst;
    return Math.min(this.spec.burst, b.tokens + ((now - b.at) / 1000) * this.spec.refillPerS);
  }

  /** Drops buckets that have refilled completely: they behave exactly like absent ones. */
  private prune(now: number): void {
    for (const [key] of this.buckets) if (this.level(key, now) >= this.spec.burst) this.buckets.delete(key);
    this.pruneAt = Math.max(1_024, this.buckets.size * 2);
  }
}
