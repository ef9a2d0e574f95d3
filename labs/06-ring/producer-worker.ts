// Worker entry for the stress test and the bench: a producer that pushes `count` 8-byte messages
// (producer id, sequence number) into its own ring, waiting for space whenever the ring is full.
import { workerData, parentPort } from 'node:worker_threads';
import { Doorbell, SpscRing } from './ring.ts';

interface ProducerData {
  ringSab: SharedArrayBuffer;
  doorbellSab: SharedArrayBuffer;
  producer: number;
  count: number;
  /** Busy-work (ms) before the first push: lets a test watch the consumer wait. */
  delayMs?: number;
}

const { ringSab, doorbellSab, producer, count, delayMs = 0 } = workerData as ProducerData;
const ring = new SpscRing(ringSab, new Doorbell(doorbellSab));

parentPort?.postMessage('ready'); // started: from here on, any wait is the ring's, not start-up's

const until = performance.now() + delayMs;
while (performance.now() < until) {
  // simulated CPU work: this thread is busy, the reactor must not be
}

let seq = 0;
const fill = (slot: Uint8Array): number => {
  const view = new DataView(slot.buffer, slot.byteOffset, 8);
  view.setUint32(0, producer, true);
  view.setUint32(4, seq, true);
  return 8;
};
let fullWaits = 0;
for (; seq < count; seq++) {
  while (!ring.pushWith(fill)) {
    fullWaits++;
    ring.waitForSpace(1);
  }
}
parentPort?.postMessage({ producer, pushed: count, fullWaits });
