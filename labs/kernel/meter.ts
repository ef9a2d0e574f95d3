// The cost meter: per-syscall counters a process accumulates as it runs. Graders and benches read it
// to measure work by counting, never by wall time.
import type { CallCost } from './cost-model.ts';

export type { CallCost };

export class Meter {
  private counters = new Map<string, CallCost>();

  /** Adds one call's cost (or, with calls = 0, another pass of a call already counted). */
  charge(call: string, cost: CallCost): void {
    let c = this.counters.get(call);
    if (!c) this.counters.set(call, (c = { calls: 0, fdsInspected: 0, bytesCopied: 0 }));
    c.calls += cost.calls;
    c.fdsInspected += cost.fdsInspected;
    c.bytesCopied += cost.bytesCopied;
  }

  /** Counters of one syscall ('select', 'epoll_wait', 'read', …); zeros if never called. */
  get(call: string): CallCost {
    const c = this.counters.get(call);
    return c ? { ...c } : { calls: 0, fdsInspected: 0, bytesCopied: 0 };
  }

  /** Sum over every syscall. */
  total(): CallCost {
    const t = { calls: 0, fdsInspected: 0, bytesCopied: 0 };
    for (const c of this.counters.values()) {
      t.calls += c.calls;
      t.fdsInspected += c.fdsInspected;
      t.bytesCopied += c.bytesCopied;
    }
    return t;
  }

  /** Every syscall's counters, by name. */
  snapshot(): Record<string, CallCost> {
    const out: Record<string, CallCost> = {};
    for (const [k, v] of [...this.counters].sort(([a], [b]) => a.localeCompare(b))) out[k] = { ...v };
    return out;
  }

  reset(): void {
    this.counters.clear();
  }
}
