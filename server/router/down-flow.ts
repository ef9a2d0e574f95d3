// Flow control of the primary → reactor direction. Each reactor acknowledges every batch it has
// handled; the switchboard counts what each reactor has not acknowledged yet. While one reactor is
// behind by more than the bound, the primary holds back its answers to `sync` — and a reactor that
// gets no sync answer stops taking requests off its sessions (LinkClient) — so producers on every
// reactor slow down to the pace of the slowest consumer instead of queueing without bound in the
// primary's IPC channel.

export const DOWN_MAX_IN_FLIGHT = 16_384;

export class DownFlow {
  private readonly inFlight = new Map<number, number>();
  private waiting: Array<() => void> = [];

  constructor(private readonly max = DOWN_MAX_IN_FLIGHT) {}

  /** Messages sent down to `reactor` and not yet acknowledged. */
  unacknowledged(reactor: number): number {
    return this.inFlight.get(reactor) ?? 0;
  }

  sent(reactor: number, n: number): void {
    this.inFlight.set(reactor, this.unacknowledged(reactor) + n);
  }

  acked(reactor: number, n: number): void {
    this.inFlight.set(reactor, Math.max(0, this.unacknowledged(reactor) - n));
    this.release();
  }

  /** The reactor is gone: nothing it owes counts any more. */
  forget(reactor: number): void {
    this.inFlight.delete(reactor);
    this.release();
  }

  get behind(): boolean {
    for (const n of this.inFlight.values()) if (n > this.max) return true;
    return false;
  }

  /** Runs `fn` now, or once no reactor is behind. */
  whenClear(fn: () => void): void {
    if (this.behind) this.waiting.push(fn);
    else fn();
  }

  private release(): void {
    if (this.waiting.length === 0 || this.behind) return;
    const waiting = this.waiting;
    this.waiting = [];
    for (const fn of waiting) fn();
  }
}
