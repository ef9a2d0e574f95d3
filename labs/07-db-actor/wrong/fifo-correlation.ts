// mistake: matches each reply to the oldest pending request instead of by its id (fine until answers overtake each other)
// replaces: actor.ts
// The reactor's handle on the database actor: request() posts {id, op, args} to the worker that
// owns SQLite and returns a Promise settled by the reply carrying the same id. If the worker
// dies, every request in flight fails (instead of hanging) and a fresh worker takes over.
import type { Worker } from 'node:worker_threads';
import { spawnTsWorker } from '#server/util/ts-worker.ts';
import type { Op } from '#stage/07-db-actor/store.ts';
import type { Reply, Request } from '#stage/07-db-actor/messages.ts';

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
    if (this.closed) return Promise.reject(new Error('database actor is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.current.postMessage({ id, op, args } satisfies Request);
    });
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
    // Replies come back in order, so the oldest pending request is the one being answered.
    const oldest = this.pending.keys().next();
    if (oldest.done) return;
    const waiting = this.pending.get(oldest.value)!;
    this.pending.delete(oldest.value);
    if (reply.ok) waiting.resolve(reply.result);
    else waiting.reject(new DbError(reply.error.name, reply.error.message, reply.error.code));
  }

  private onExit(worker: Worker, code: number): void {
    if (worker !== this.current) return;
    // Whatever was in flight died with the worker: we cannot know if it ran, so say it failed.
    const lost = [...this.pending.values()];
    this.pending.clear();
    for (const p of lost) p.reject(new Error(`database actor died (exit code ${code}) before answering`));
    if (!this.closed) {
      this.restarts++;
      this.start();
    }
  }
}
