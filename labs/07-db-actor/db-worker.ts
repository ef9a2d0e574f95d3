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
  // TODO: take the batch (pendingWrites) and reset it; run every write inside ONE
  // store.transaction(() => ...), catching each write's own error into its reply; only after the
  // transaction has returned (committed) post the replies. If the transaction itself throws,
  // every write of the batch fails.
  throw new Error('TODO: flushWrites');
}

port.on('message', (request: Request) => {
  // TODO: a write (WRITE_OPS.has(request.op)) joins pendingWrites, and the first write of a tick
  // schedules flushWrites with setImmediate. Anything else runs now: reply with
  // {id, ok: true, result: store.run(op, args)}, or {id, ok: false, error: describeError(err)}.
  void request, reply, describeError, WRITE_OPS;
  throw new Error('TODO: handle a request');
});
