// Starts a worker_threads Worker whose entry is a TypeScript file (see worker-bootstrap.mjs for why).
import { Worker, type WorkerOptions } from 'node:worker_threads';

const bootstrap = new URL('./worker-bootstrap.mjs', import.meta.url);

/** `entry` is the URL of the .ts module to run; `workerData` reaches it as usual. */
export function spawnTsWorker(entry: URL, options: WorkerOptions = {}): Worker {
  const data = (options.workerData ?? {}) as Record<string, unknown>;
  return new Worker(bootstrap, {
    ...options,
    workerData: { ...data, __tsEntry: entry.href },
  });
}
