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
    // TODO: visit the rings in turn, popping at most one message from each per pass and calling
    // onMessage(ringIndex, message); stop when a whole pass finds nothing or `budget` is reached.
    throw new Error('TODO: FanIn.drain');
  }

  /**
   * Delivers messages until `done()` is true. Never blocks the thread: after a full budget it yields
   * to the event loop; when every ring is empty it sleeps on the doorbell with Atomics.waitAsync.
   */
  async run(onMessage: MessageHandler, done: () => boolean): Promise<void> {
    // TODO: loop until done():
    //  - read the doorbell first (this.doorbell.read()), then drain;
    //  - a full budget handled → let the event loop breathe (await yieldToLoop());
    //  - nothing handled → sleep until the doorbell changes from the value you read, without
    //    blocking this thread: waitAsync(...) above is Atomics.waitAsync, typed (hint 2).
    void yieldToLoop;
    throw new Error('TODO: FanIn.run');
  }
}
