// At most one event per key per window (the wizz limit: one per sender→recipient per 5 s).
// Only events that happened count: check() before, record() after success.
export class RateLimiter {
  private readonly last = new Map<string, number>();
  private pruneAt = 1_024;

  constructor(private readonly windowMs: number) {}

  allows(key: string, now: number): boolean {
    const at = this.last.get(key);
    return at === undefined || now - at >= this.windowMs;
  }

  record(key: string, now: number): void {
    this.last.set(key, now);
    if (this.last.size >= this.pruneAt) {
      this.prune(now);
      this.pruneAt = Math.max(1_024, this.last.size * 2); // amortised: prune when the map doubles
    }
  }

  /** Drops keys whose window has passed, so the map stays as small as the active senders. */
  prune(now: number): void {
    for (const [key, at] of this.last) if (now - at >= this.windowMs) this.last.delete(key);
  }
}
