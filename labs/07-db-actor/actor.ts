// The reactor's handle on the database actor: request() posts {id, op, args} to the worker that
// owns SQLite and returns a Promise settled by the reply carrying the same id. If the worker
// dies, every request in flight fails (instead of hanging) and a fresh worker takes over.
import type { Worker } from 'node:worker_threads';
import { spawnTsWorker } from '#server/util/ts-worker.ts';
import type { Op } from './store.ts';
import type { Reply, Request } from './messages.ts';

interface Pending {
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
}

/** An error that came back from the actor, rebuilt on this side. */
export class DbError extends Error {
  constructor(name: string, message: string, readonly code?: string) {
    super(message);
    this.name = name;
  }
}

export class DbActor {
  /** How many times the worker died and was replaced. */
  restarts = 0;
  private current!: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(readonly file: string) {
    this.start();
  }

  /** The worker thread now serving requests (the graders terminate it to test recovery). */
  get worker(): Worker {
    return this.current;
  }

  request(op: Op, args: unknown = {}): Promise<unknown> {
    // TODO. What must hold (the graders check each one): every request gets its own answer even
    // when replies come back in another order than the requests went out (reads overtake writes);
    // the promise settles exactly once — never hangs, never leaks (once settled, nothing about it
    // stays in this.pending); after close() a request is refused at once. The worker speaks
    // messages.ts: a Request in, a Reply carrying the same id out.
    void op, args;
    throw new Error('TODO: DbActor.request');
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.current.terminate();
  }

  private start(): void {
    const worker = spawnTsWorker(new URL('./db-worker.ts', import.meta.url), { workerData: { file: this.file } });
    worker.on('message', (reply: Reply) => this.settle(reply));
    worker.on('error', () => {
      // 'exit' follows 'error'; the in-flight requests are failed there.
    });
    worker.on('exit', (code) => this.onExit(worker, code));
    this.current = worker;
  }

  private settle(reply: Reply): void {
    // TODO. What must hold: the reply settles the request it answers and no other; a failure
    // reaches the caller as an Error that keeps what the worker saw — name (SqliteError stays
    // SqliteError), message and SQLite code (SQLITE_CONSTRAINT_NOTNULL…); a reply for a request
    // that was already failed (its worker died) is ignored.
    void reply;
    throw new Error('TODO: DbActor.settle');
  }

  private onExit(worker: Worker, code: number): void {
    // TODO. What must hold: when the serving worker exits, every request it still held fails at
    // once (nobody can know whether it ran) and nothing stays pending; after a crash a new worker
    // serves the same file (restarts counts them); after close() nothing restarts.
    // (No `throw` here: an exception in an 'exit' listener would stop worker.terminate() from
    // ever resolving.)
    void worker, code;
  }
}
