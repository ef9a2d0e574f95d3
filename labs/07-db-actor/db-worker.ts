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
  // TODO. What must hold (the graders check each one): the writes of one tick commit together, in
  // a few store.transaction()s, not one each; one bad write fails alone, with its own error; no
  // write is acknowledged before its COMMIT has succeeded (a grader holds the lock and watches);
  // when the COMMIT itself fails, every write of that batch fails with the COMMIT's error — none
  // is acknowledged; and every write gets exactly one reply.
  throw new Error('TODO: flushWrites');
}

port.on('message', (request: Request) => {
  // TODO. What must hold: every request gets exactly one Reply with its id — a result, or the
  // error as describeError makes it (name, message, code); reads are answered at once; writes
  // (WRITE_OPS) wait for their tick's batch, and a batch that was started always gets flushed.
  void request, reply, describeError, WRITE_OPS;
  throw new Error('TODO: handle a request');
});
