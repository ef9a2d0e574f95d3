// For the thread stages' graders (06, 07): wait for work that runs on other threads, and when it
// stops making progress, stop waiting within seconds and say why — with the state that explains
// the hang (ring indices, doorbell, pending requests...), read at the moment of the stall.
// Wall time is unavoidable here (real threads), so the deadlines are about progress, not about
// how long the whole job takes: a slow machine makes progress slowly, a hang makes none.

/** A wait that stopped because nothing moved. Its message carries the state at the stall. */
export class StallError extends Error {
  override name = 'StallError';
}

export interface WatchOptions {
  /** What is being waited for, as the learner would say it ("the consumer", "the 60 requests"). */
  what: string;
  /** A counter that grows while work gets done (messages handled, answers received). */
  progress: () => number;
  /** The state that explains a stall, read when the stall is declared. Keep it to a few lines. */
  state: () => string;
  /** No progress for this long is a stall. */
  stallMs: number;
  /**
   * Optional sharper test: true while the situation can only be a hang (work is waiting and the
   * one who should take it is idle). Held for `stuckMs` with no progress, it is a stall too.
   */
  stuck?: () => boolean;
  stuckMs?: number;
}

const TICK_MS = 100;

/**
 * Resolves with `work`, or rejects with a StallError as soon as `progress()` stays unchanged for
 * `stallMs` (or `stuck()` holds for `stuckMs` without progress). The watchdog runs on this
 * thread's timers: if it fires at all, this thread's event loop is free, so "no progress" is not
 * the grader being starved. It needs several ticks in a row before it calls anything a stall.
 */
export function watchProgress<T>(work: Promise<T>, options: WatchOptions): Promise<T> {
  const { what, progress, state, stallMs, stuck, stuckMs = stallMs } = options;
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    let last = progress();
    let since = performance.now();
    let ticks = 0; // watchdog ticks since the last progress: proof the loop was free meanwhile
    let stuckSince: number | null = null;
    let stuckTicks = 0;
    timer = setInterval(() => {
      const now = performance.now();
      const p = progress();
      if (p !== last) {
        last = p;
        since = now;
        ticks = 0;
        stuckSince = null;
        stuckTicks = 0;
        return;
      }
      ticks++;
      if (stuck?.()) {
        stuckSince ??= now;
        stuckTicks++;
      } else {
        stuckSince = null;
        stuckTicks = 0;
      }
      const minTicks = (ms: number) => Math.max(3, Math.floor(ms / TICK_MS / 2));
      const idleFor = now - since;
      const hung = (idleFor >= stallMs && ticks >= minTicks(stallMs)) || (stuckSince !== null && now - stuckSince >= stuckMs && stuckTicks >= minTicks(stuckMs));
      if (!hung) return;
      clearInterval(timer);
      const seconds = (idleFor / 1000).toFixed(1);
      reject(new StallError(`${what} stalled: no progress for ${seconds} s (at ${p}).\n${state()}`));
    }, TICK_MS);
  });
  return Promise.race([work, stalled]).finally(() => clearInterval(timer));
}

/** Where a stage-06 ring keeps its counters: word indices into the ring's Int32Array. */
export interface RingLayout {
  capacity: number; // word index of the capacity
  head: number;
  tail: number;
}

// #region describe-rings
/**
 * The state of SPSC rings and their doorbell, read straight from shared memory (not through the
 * learner's methods, which may be what is broken): each ring's head, tail, messages waiting and free
 * slots; the doorbell's value; and who was asleep on it. Finding that out wakes the sleepers
 * (Atomics.notify reports how many it woke) — fine, the wait is being abandoned anyway.
 */
export function describeRings(
  rings: Array<{ i32: Int32Array }>,
  layout: RingLayout,
  doorbell: Int32Array,
  consumer = 'the consumer',
  /** What it means when every ring is empty and the consumer sleeps; the default assumes producer threads. */
  emptyAndAsleep = `the producers stopped pushing (a full ring they never retried?).`,
): string {
  let waiting = 0;
  const parts = rings.map(({ i32 }, i) => {
    const head = Atomics.load(i32, layout.head);
    const tail = Atomics.load(i32, layout.tail);
    const size = (tail - head) | 0;
    waiting += Math.max(0, size);
    return `#${i} head ${head} tail ${tail}: ${size} waiting, ${i32[layout.capacity]! - size} free`;
  });
  const bell = Atomics.load(doorbell, 0);
  const sleepers = Atomics.notify(doorbell, 0);
  const why =
    waiting > 0 && sleepers > 0
      ? `Messages are waiting while ${consumer} sleeps on the doorbell: nobody rang it when a ring went from empty to non-empty — a lost wake-up (hint 3).`
      : waiting > 0
        ? `Messages are waiting and nobody sleeps on the doorbell: ${consumer} is not looking at the rings (its loop ended, or it waits on something else).`
        : sleepers > 0
          ? `Every ring is empty and ${consumer} sleeps on the doorbell: ${emptyAndAsleep}`
          : `Every ring is empty and nobody sleeps on the doorbell.`;
  return `rings: ${parts.join('; ')}\ndoorbell: value ${bell}, ${sleepers} waiter(s) asleep on it.\n${why}`;
}
// #endregion describe-rings
