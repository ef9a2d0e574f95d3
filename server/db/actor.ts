// The database actor: the one thread that owns SQLite for the whole server. It takes batches of
// requests from the primary, runs what arrived in one loop iteration as one transaction (one
// commit, one fsync; at most MAX_TRANSACTION requests, so one huge backlog does not become one
// huge transaction) and answers by correlation id only after the commit.
import { parentPort, workerData } from 'node:worker_threads';
import { Store, type DbRequest } from './store.ts';
import type { ActorIn, ActorOut } from './actor-client.ts';

const MAX_TRANSACTION = 4_096;

const port = parentPort!;
const store = new Store(workerData.file as string, { pragmas: workerData.pragmas as string[] | undefined });
let queue: DbRequest[] = [];
let scheduled = false;

function post(msg: ActorOut): void {
  port.postMessage(msg);
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(flush); // everything that arrives in this iteration joins the same commit
}

function flush(): void {
  scheduled = false;
  if (queue.length === 0) return;
  const batch = queue.length <= MAX_TRANSACTION ? queue : queue.slice(0, MAX_TRANSACTION);
  queue = batch === queue ? [] : queue.slice(MAX_TRANSACTION);
  post({ kind: 'replies', replies: store.execute(batch) });
  if (queue.length > 0) schedule();
}

port.on('message', (msg: ActorIn) => {
  if (msg.kind === 'batch') {
    // A loop, not push(...batch): spreading 150,000 arguments overflows the stack.
    for (const req of msg.batch) queue.push(req);
    schedule();
  } else if (msg.kind === 'close') {
    while (queue.length > 0) flush();
    store.close();
    post({ kind: 'closed' });
    port.close();
  }
});

post({ kind: 'ready' });
