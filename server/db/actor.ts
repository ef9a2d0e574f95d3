// The database actor: the one thread that owns SQLite for the whole server. It takes batches of
// requests from the primary, runs what arrived in one loop iteration as one transaction (one
// commit, one fsync; at most MAX_TRANSACTION requests, so one huge backlog does not become one
// huge transaction) and answers by correlation id only after the commit.
import { parentPort, workerData } from 'node:worker_threads';
import { Store, type DbReply, type DbRequest } from './store.ts';
import type { ActorIn, ActorOut } from './actor-client.ts';

const MAX_TRANSACTION = 4_096;

const port = parentPort!;

function post(msg: ActorOut): void {
  port.postMessage(msg);
}

/**
 * An error as a plain Error with its code in the message. better-sqlite3's SqliteError is not an
 * Error to structured clone: thrown out of this thread it reached the primary as `{code}` alone,
 * and the log said "database actor error: undefined".
 */
function plainError(err: unknown): Error {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { name?: string; code?: string; message?: string };
  return new Error([e.code ?? e.name, e.message ?? String(err)].filter(Boolean).join(': '));
}

let store: Store;
try {
  store = new Store(workerData.file as string, {
    pragmas: workerData.pragmas as string[] | undefined,
    log: (line) => post({ kind: 'log', line }),
  });
} catch (err) {
  throw plainError(err);
}
let queue: DbRequest[] = [];
let scheduled = false;

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
  let replies: DbReply[];
  try {
    replies = store.execute(batch);
  } catch (err) {
    // Not an answer SQLite gives a request (execute() turns those into replies) but a failure of
    // the batch itself: nothing of it is committed, and the thread stays to serve the next one.
    store.rollback();
    const { message } = plainError(err);
    post({ kind: 'log', line: `a batch failed: ${message}` });
    replies = batch.map((r) => ({ id: r.id, ok: false, code: 'unavailable', message: `database error: ${message}` }));
  }
  post({ kind: 'replies', replies });
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
