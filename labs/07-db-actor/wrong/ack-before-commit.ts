// mistake: acknowledges each write as soon as it is queued, before the batch's transaction has committed
// replaces: db-worker.ts
// Worker entry: the database actor. This thread alone owns the SQLite connection. Reads are
// answered at once; writes wait for the end of the tick and commit together in one transaction,
// and each is acknowledged only after that commit.
import { parentPort, workerData } from 'node:worker_threads';
import { ChatStore, WRITE_OPS } from './store.ts';
import { describeError, type Reply, type Request } from './messages.ts';

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
