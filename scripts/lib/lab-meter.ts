// The meter line `npm run lab` shows: what the emulated kernel charged the stage's server — wake-ups
// (calls of the waiting syscall), fds the kernel inspected, bytes copied between user and kernel —
// in all and per chat message, so chapter 1's "watch the meter" can be done on real traffic. The
// per-message figures leave out idle wake-ups (a wait that timed out with nothing ready: the loop's
// timer tick to check for Ctrl-C), which depend on the clock and the tick, not on the messages.
import type { CallCost } from '#kernel/meter.ts';

/** The syscalls an event loop sleeps in: one call, one wake-up. */
export const WAITING_CALLS = ['select', 'poll', 'epoll_wait', 'kevent'] as const;

export interface MeterReading {
  /** proc.meter.snapshot(): counters per syscall. */
  calls: Record<string, CallCost>;
  /** SAY requests the server handled (each is one chat message). */
  messages: number;
  /** Client connections open now. */
  connections: number;
  /** What the waits that returned 0 (timed out, nothing ready) cost, summed: see tapIdleWaits. */
  idle?: CallCost;
}

/**
 * Wraps the waiting calls of one process (`proc.select` …) to add up what the calls that returned
 * 0 cost, i.e. the loop's idle timer ticks, into `idle`. The stage's code is not touched.
 */
export function tapIdleWaits(proc: { meter: { get(call: string): CallCost } }, idle: CallCost): void {
  const target = proc as unknown as Record<string, (...args: unknown[]) => Promise<number>>;
  for (const call of WAITING_CALLS) {
    const original = target[call];
    if (typeof original !== 'function') continue;
    target[call] = async function (this: unknown, ...args: unknown[]): Promise<number> {
      const before = proc.meter.get(call);
      const n = await original.apply(this, args);
      if (n === 0) {
        const after = proc.meter.get(call);
        idle.calls += after.calls - before.calls;
        idle.fdsInspected += after.fdsInspected - before.fdsInspected;
        idle.bytesCopied += after.bytesCopied - before.bytesCopied;
      }
      return n;
    };
  }
}

const n = (x: number) => Math.round(x).toLocaleString('en-US');
const per = (x: number, m: number) => (m === 0 ? '—' : x / m >= 100 ? n(x / m) : (x / m).toFixed(1));

export function formatMeter(r: MeterReading): string {
  const waiting = WAITING_CALLS.filter((c) => (r.calls[c]?.calls ?? 0) > 0);
  const wakeups = waiting.reduce((s, c) => s + r.calls[c]!.calls, 0);
  let fds = 0;
  let bytes = 0;
  for (const c of Object.values(r.calls)) {
    fds += c.fdsInspected;
    bytes += c.bytesCopied;
  }
  const idle = r.idle ?? { calls: 0, fdsInspected: 0, bytesCopied: 0 };
  const via = [waiting.join(', '), idle.calls > 0 ? `${n(idle.calls)} of them idle ticks` : ''].filter(Boolean).join('; ');
  const m = r.messages;
  return (
    `meter: ${n(wakeups)} wake-ups${via ? ` (${via})` : ''} · ${n(fds)} fds inspected · ${n(bytes)} bytes copied · ` +
    `${n(m)} message${m === 1 ? '' : 's'}, ${n(r.connections)} connected` +
    (m > 0
      ? ` → per message, idle ticks aside: ${per(wakeups - idle.calls, m)} wake-ups, ${per(fds - idle.fdsInspected, m)} fds, ${per(bytes - idle.bytesCopied, m)} bytes`
      : '')
  );
}
