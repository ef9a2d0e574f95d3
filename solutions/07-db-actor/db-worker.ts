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
  const replies: Reply[] = [];
  try {
    store.transaction(() => {
      for (const request of batch) {
        // One bad write must not sink the batch: SQLite rolls back just the failing statement.
        try {
          replies.push({ id: request.id, ok: true, result: store.run(request.op, request.args) });
        } catch (err) {
          replies.push({ id: request.id, ok: false, error: describeError(err) });
        }
      }
    });
  } catch (err) {
    // The commit itself failed: nothing in the batch is durable, so every write fails.
    for (const request of batch) reply({ id: request.id, ok: false, error: describeError(err) });
    return;
  }
  // Only now, after COMMIT, may anyone be told their write happened.
  for (const r of replies) reply(r);
}

port.on('message', (request: Request) => {
  if (WRITE_OPS.has(request.op)) {
    if (pendingWrites.length === 0) setImmediate(flushWrites); // once per tick, after this tick's messages
    pendingWrites.push(request);
    return;
  }
  try {
    reply({ id: request.id, ok: true, result: store.run(request.op, request.args) });
  } catch (err) {
    reply({ id: request.id, ok: false, error: describeError(err) });
  }
});
