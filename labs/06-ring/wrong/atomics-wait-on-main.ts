// mistake: the reactor sleeps with Atomics.wait, which blocks the main thread's event loop until a producer rings
// replaces: fan-in.ts
// The reactor's side of many rings: one SPSC ring per producer, one doorbell for all of them.
// Draining is round-robin so a busy producer cannot starve the others; waiting is asynchronous
// (Atomics.waitAsync) so the reactor's event loop keeps serving timers and sockets meanwhile.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Doorbell, SpscRing } from '#stage/06-ring/ring.ts';

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
    let handled = 0;
    let progress = true;
    while (progress && handled < budget) {
      progress = false;
      for (let p = 0; p < this.rings.length && handled < budget; p++) {
        if (this.rings[p]!.popWith((message) => onMessage(p, message))) {
          handled++;
          progress = true;
        }
      }
    }
    return handled;
  }

  /**
   * Delivers messages until `done()` is true. Never blocks the thread: after a full budget it yields
   * to the event loop; when every ring is empty it sleeps on the doorbell with Atomics.waitAsync.
   */
  async run(onMessage: MessageHandler, done: () => boolean): Promise<void> {
    while (!done()) {
      // Read the doorbell before looking for work: a message published after this read changes
      // the doorbell, so the wait below cannot miss it.
      const seen = this.doorbell.read();
      const handled = this.drain(onMessage);
      if (done()) return;
      if (handled === DRAIN_BUDGET) {
        await yieldToLoop();
      } else if (handled === 0) {
        // Sleep until a producer rings (with a timeout so done() is re-checked now and then).
        Atomics.wait(this.doorbell.word, 0, seen, 50);
      }
    }
  }
}
