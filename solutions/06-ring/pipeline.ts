// The reactor's hand-off to encoder workers: one request ring *to* each worker and one reply ring
// back, the replies gathered by a FanIn. A sender's messages always go to the same worker, so
// its replies come back in the order it sent them.
import type { Worker } from 'node:worker_threads';
import { spawnTsWorker } from '#server/util/ts-worker.ts';
import { Doorbell, SpscRing } from './ring.ts';
import { FanIn, type MessageHandler } from './fan-in.ts';

// Fits the largest valid chat (500 characters, JSON-escaped) and its delivery frame.
export const SLOT_BYTES = 4096;

export class EncoderPool {
  readonly inboxes: SpscRing[] = [];
  readonly fanIn: FanIn;
  private readonly workers: Worker[] = [];
  private readonly exited: Array<Promise<number>>;

  constructor(workers: number, capacity = 1024) {
    const replies = new Doorbell();
    const outboxes: SpscRing[] = [];
    for (let w = 0; w < workers; w++) {
      const inboxBell = new Doorbell();
      const inbox = SpscRing.create(capacity, SLOT_BYTES, inboxBell);
      const outbox = SpscRing.create(capacity, SLOT_BYTES, replies);
      this.inboxes.push(inbox);
      outboxes.push(outbox);
      this.workers.push(
        spawnTsWorker(new URL('./encoder-worker.ts', import.meta.url), {
          workerData: { inboxSab: inbox.sab, inboxBellSab: inboxBell.sab, outboxSab: outbox.sab, outboxBellSab: replies.sab },
        }),
      );
    }
    this.exited = this.workers.map((w) => new Promise((resolve) => w.once('exit', resolve)));
    this.fanIn = new FanIn(outboxes, replies);
  }

  /** Which worker serves this sender (stable, so per-sender order is kept). */
  workerFor(sender: string): number {
    let h = 0;
    for (let i = 0; i < sender.length; i++) h = (h * 31 + sender.charCodeAt(i)) | 0;
    return Math.abs(h) % this.inboxes.length;
  }

  /** Hands one payload to a worker; false when its ring is full (the caller stops reading that socket). */
  submit(sender: string, payload: Uint8Array): boolean {
    return this.inboxes[this.workerFor(sender)]!.push(payload);
  }

  /** Delivers replies (worker index, encoded frame) until `done()`. */
  run(onReply: MessageHandler, done: () => boolean): Promise<void> {
    return this.fanIn.run(onReply, done);
  }

  /** Asks every worker to stop (an empty message) and waits for them to exit. */
  async close(): Promise<void> {
    for (const inbox of this.inboxes) {
      while (!inbox.push(new Uint8Array(0))) await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.race([Promise.all(this.exited), new Promise((r) => setTimeout(r, 2000))]);
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
