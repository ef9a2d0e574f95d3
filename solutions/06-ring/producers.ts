// Starts producer worker threads, each with its own ring into one FanIn. Used by the stress test
// and by `npm run bench:ring`.
import type { Worker } from 'node:worker_threads';
import { spawnTsWorker } from '#server/util/ts-worker.ts';
import { Doorbell, SpscRing } from './ring.ts';
import { FanIn } from './fan-in.ts';

export interface ProducerReport {
  producer: number;
  pushed: number;
  /** How often the producer found its ring full and had to wait (backpressure at work). */
  fullWaits: number;
}

export interface Producers {
  fanIn: FanIn;
  workers: Worker[];
  /** Resolves once every producer thread is running (loading TypeScript in a thread takes a while). */
  ready: Promise<void>;
  /** Resolves with each producer's report once every producer has pushed its last message. */
  finished: Promise<ProducerReport[]>;
}

export function startProducers(options: {
  producers: number;
  perProducer: number;
  capacity?: number;
  delayMs?: number;
}): Producers {
  const { producers, perProducer, capacity = 4096, delayMs = 0 } = options;
  const doorbell = new Doorbell();
  const rings = Array.from({ length: producers }, () => SpscRing.create(capacity, 8, doorbell));
  const workers = rings.map((ring, producer) =>
    spawnTsWorker(new URL('./producer-worker.ts', import.meta.url), {
      workerData: { ringSab: ring.sab, doorbellSab: doorbell.sab, producer, count: perProducer, delayMs },
    }),
  );
  const started: Array<Promise<void>> = [];
  const finished = Promise.all(
    workers.map((worker) => {
      let onReady!: () => void;
      started.push(new Promise<void>((resolve) => (onReady = resolve)));
      return new Promise<ProducerReport>((resolve, reject) => {
        worker.on('message', (message: 'ready' | ProducerReport) => (message === 'ready' ? onReady() : resolve(message)));
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`producer worker exited (code ${code}) before reporting`)));
      });
    }),
  );
  finished.catch(() => {}); // a caller that stops early (a failed test) need not await it
  return { fanIn: new FanIn(rings, doorbell), workers, ready: Promise.all(started).then(() => {}), finished };
}
