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
    // TODO: reject if closed; take a fresh id (this.nextId++); remember {resolve, reject} under it
    // in this.pending; post {id, op, args} to this.current; return the Promise.
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
    // TODO: find the request this reply answers *by its id* (not by arrival order), forget it,
    // then resolve with reply.result or reject with a DbError rebuilt from reply.error.
    void reply;
    throw new Error('TODO: DbActor.settle');
  }

  private onExit(worker: Worker, code: number): void {
    // TODO: if `worker` is still this.current: reject every pending request (they died with the
    // worker), clear the map, and unless closed count a restart and this.start() a new worker.
    // (No `throw` here: an exception in an 'exit' listener would stop worker.terminate() from
    // ever resolving.)
    void worker, code;
  }
}
