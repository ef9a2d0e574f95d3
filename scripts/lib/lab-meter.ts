// The meter line `npm run lab` shows: what the emulated kernel charged the stage's server — wake-ups
// (calls of the waiting syscall), fds the kernel inspected, bytes copied between user and kernel —
// in all and per chat message, so chapter 1's "watch the meter" can be done on real traffic.
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
  const via = waiting.length ? ` (${waiting.join(', ')})` : '';
  const m = r.messages;
  return (
    `meter: ${n(wakeups)} wake-ups${via} · ${n(fds)} fds inspected · ${n(bytes)} bytes copied · ` +
    `${n(m)} message${m === 1 ? '' : 's'}, ${n(r.connections)} connected` +
    (m > 0 ? ` → per message: ${per(wakeups, m)} wake-ups, ${per(fds, m)} fds, ${per(bytes, m)} bytes` : '')
  );
}
