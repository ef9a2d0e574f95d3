// How long to wait before replacing a crashed reactor: at once after a crash of a reactor that ran
// for a while, doubling (250 ms, 500 ms, … 30 s) while replacements keep crashing young, so a
// reactor that cannot start never turns into a busy crash loop.
export class RestartBackoff {
  private streak = 0;

  constructor(
    private readonly stableMs = 10_000,
    private readonly firstMs = 250,
    private readonly maxMs = 30_000,
  ) {}

  /** The delay before the next start, given how long the one that just exited had run. */
  next(ranMs: number): number {
    if (ranMs >= this.stableMs) this.streak = 0;
    const delay = this.streak === 0 ? 0 : Math.min(this.maxMs, this.firstMs * 2 ** (this.streak - 1));
    this.streak++;
    return delay;
  }
}
