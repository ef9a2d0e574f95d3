// The reactor's side of many rings: one SPSC ring per producer, one doorbell for all of them.
// Draining is round-robin so a busy producer cannot starve the others; waiting is asynchronous
// (Atomics.waitAsync) so the reactor's event loop keeps serving timers and sockets meanwhile.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Doorbell, SpscRing } from './ring.ts';

export type MessageHandler = (producer: number, message: Uint8Array) => void;

/** Atomics.waitAsync exists in Node 20, but TypeScript's lib only declares it from ES2024. */
type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
  timeoutMs?: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
export const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/** How many messages one turn of the event loop may handle before letting timers and I/O run. */
export const DRAIN_BUDGET = 4096;

export class FanIn {
  constructor(readonly rings: SpscRing[], readonly doorbell: Doorbell) {}

  /** Pops up to `budget` messages, one per ring in turn; returns how many it handled. */
  drain(onMessage: MessageHandler, budget = DRAIN_BUDGET): number {
    // TODO. What must hold: at most `budget` messages, and min(budget, messages waiting) when
    // fewer wait; fair — no ring gets two messages ahead of a ring that still has one (a grader
    // checks every prefix of the order); each ring's messages in their order, onMessage told the
    // ring's index; returns how many it handled.
    throw new Error('TODO: FanIn.drain');
  }

  /**
   * Delivers messages until `done()` is true. Never blocks the thread: after a full budget it yields
   * to the event loop; when every ring is empty it sleeps on the doorbell with Atomics.waitAsync.
   */
  async run(onMessage: MessageHandler, done: () => boolean): Promise<void> {
    // TODO. What must hold (the graders check each one):
    //  - it resolves once done() is true, having handed over every message that arrived;
    //  - it never blocks this thread: timers keep firing while it waits for producers;
    //  - under sustained load a timer set on this thread still fires: after a full budget it gives
    //    the event loop a real turn (a macrotask, like yieldToLoop — a resolved promise is not one);
    //  - with every ring empty it sleeps: no looking at the rings or the doorbell until a producer
    //    rings (the graders count the looks), and a push that lands while it is deciding to sleep
    //    can never leave it asleep (hint 3). waitAsync above is Atomics.waitAsync, typed.
    void yieldToLoop;
    throw new Error('TODO: FanIn.run');
  }
}
