// mistake: acknowledges each write as soon as it is queued, before the batch's transaction has committed
// replaces: db-worker.ts
// Worker entry: the database actor. This thread alone owns the SQLite connection. Reads are
// answered at once; writes wait for the end of the tick and commit together in one transaction,
// and each is acknowledged only after that commit.
import { parentPort, workerData } from 'node:worker_threads';
import type { Request } from '#stage/07-db-actor/messages.ts';

// This file runs inside the worker thread, where the graders' `#stage` alias does not exist:
// load the siblings relative to this file (in the overlay it sits where db-worker.ts was).
type StoreModule = typeof import('#stage/07-db-actor/store.ts');
type MessagesModule = typeof import('#stage/07-db-actor/messages.ts');
const { ChatStore, WRITE_OPS } = (await import(new URL('./store.ts', import.meta.url).href)) as StoreModule;
const { describeError } = (await import(new URL('./messages.ts', import.meta.url).href)) as MessagesModule;
type Reply = import('#stage/07-db-actor/messages.ts').Reply;

const port = parentPort!;
const store = new ChatStore((workerData as { file: string }).file);

let pendingWrites: Request[] = [];

function reply(message: Reply): void {
  port.postMessage(message);
}

function flushWrites(): void {
  const batch = pendingWrites;
  pendingWrites = [];
  try {
    store.transaction(() => {
      for (const request of batch) {
        // One bad write must not sink the batch: SQLite rolls back just the failing statement.
        try {
          store.run(request.op, request.args);
        } catch {
          // already acknowledged: too late to tell anyone
        }
      }
    });
  } catch (err) {
    // The commit itself failed: nothing in the batch is durable, so every write fails.
    for (const request of batch) reply({ id: request.id, ok: false, error: describeError(err) });
    return;
  }
}

port.on('message', (request: Request) => {
  if (WRITE_OPS.has(request.op)) {
    if (pendingWrites.length === 0) setImmediate(flushWrites); // once per tick, after this tick's messages
    pendingWrites.push(request);
    // Answer right away so the caller isn't kept waiting for the batch.
    reply({ id: request.id, ok: true, result: { id: null } });
    return;
  }
  try {
    reply({ id: request.id, ok: true, result: store.run(request.op, request.args) });
  } catch (err) {
    reply({ id: request.id, ok: false, error: describeError(err) });
  }
});
