// The primary's handle on the database actor thread: requests by correlation id, batched per loop
// iteration into one postMessage. At most `maxPending` requests wait for the actor; beyond that a
// call fails at once with `unavailable` (the client may retry; SEND with a key is safe to retry),
// so a flood costs bounded memory instead of killing the actor. If the thread dies, everything in
// flight fails with `unavailable` and the thread is restarted after a pause; calls in between
// fail at once.
import { inspect } from 'node:util';
import type { Worker, WorkerOptions } from 'node:worker_threads';
import { spawnTsWorker } from '../util/ts-worker.ts';
import { Batcher, LinkError } from '../router/link.ts';
import { Correlator } from '../util/correlator.ts';
import type { DbReply, DbRequest } from './store.ts';
import type { DbCall } from './ops.ts';

export type ActorIn = { kind: 'batch'; batch: DbRequest[] } | { kind: 'close' };
export type ActorOut =
  | { kind: 'ready' }
  | { kind: 'replies'; replies: DbReply[] }
  /** Something the thread has to say (the database locked by another process, a failed batch). */
  | { kind: 'log'; line: string }
  | { kind: 'closed' };

export interface ActorOptions {
  file: string;
  pragmas?: string[];
  restartDelayMs?: number;
  /** Requests waiting for the actor at most (default 100,000). */
  maxPending?: number;
  log?: (line: string) => void;
  /** Starts the thread; the default runs ./actor.ts. Tests pass one that keeps the Worker to kill it. */
  spawn?: (entry: URL, options: WorkerOptions) => Worker;
}

export const DEFAULT_MAX_PENDING = 100_000;

type State = 'starting' | 'up' | 'down' | 'closing' | 'closed';

export class DbActor {
  private worker: Worker | null = null;
  private state: State = 'down';
  private readonly pending = new Correlator();
  private readonly out = new Batcher<DbRequest>((batch) => this.worker?.postMessage({ kind: 'batch', batch } satisfies ActorIn));
  private readyWaiters: Array<(err?: Error) => void> = [];
  private closedWaiter: (() => void) | null = null;
  private everUp = false;
  private restartCount = 0;

  constructor(private readonly options: ActorOptions) {}

  get isUp(): boolean {
    return this.state === 'up' || this.state === 'starting';
  }

  /** Starts the thread; resolves when SQLite is open. */
  start(): Promise<void> {
    this.spawn();
    return new Promise((resolve, reject) => this.readyWaiters.push((err) => (err ? reject(err) : resolve())));
  }

  /** How many times the thread died and was started again. */
  get restarts(): number {
    return this.restartCount;
  }

  /** Requests sent to the actor and not yet answered. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** One typed operation (as the switchboard receives it from a reactor). */
  send(call: DbCall): Promise<unknown> {
    if (!this.isUp) return Promise.reject(new LinkError('unavailable', 'the database is restarting; try again'));
    if (this.pending.size >= (this.options.maxPending ?? DEFAULT_MAX_PENDING)) {
      return Promise.reject(new LinkError('unavailable', 'the database is busy; try again'));
    }
    const { id, promise } = this.pending.open<unknown>();
    this.out.push({ ...call, id });
    return promise;
  }

  /** Flushes what is queued, checkpoints and closes SQLite, and ends the thread. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    if (!this.worker || this.state === 'down') {
      this.state = 'closed';
      return;
    }
    this.out.flush();
    this.state = 'closing';
    const closed = new Promise<void>((resolve) => (this.closedWaiter = resolve));
    this.worker.postMessage({ kind: 'close' } satisfies ActorIn);
    await closed;
  }

  private spawn(): void {
    this.state = 'starting';
    const spawn = this.options.spawn ?? spawnTsWorker;
    const worker = spawn(new URL('./actor.ts', import.meta.url), {
      workerData: { file: this.options.file, pragmas: this.options.pragmas },
    });
    this.worker = worker;
    worker.on('message', (msg: ActorOut) => this.onMessage(msg));
    worker.on('error', (err) => this.options.log?.(`database actor error: ${describeError(err)}`));
    worker.on('exit', () => this.onExit(worker));
  }

  private onMessage(msg: ActorOut): void {
    if (msg.kind === 'ready') {
      if (this.state === 'starting') this.state = 'up';
      this.everUp = true;
      for (const w of this.readyWaiters.splice(0)) w();
    } else if (msg.kind === 'replies') {
      for (const r of msg.replies) {
        if (r.ok) this.pending.resolve(r.id, r.value);
        else this.pending.reject(r.id, new LinkError(r.code, r.message));
      }
    } else if (msg.kind === 'log') {
      this.options.log?.(`database: ${msg.line}`);
    } else if (msg.kind === 'closed') {
      this.state = 'closed';
      this.closedWaiter?.();
    }
  }

  private onExit(worker: Worker): void {
    if (worker !== this.worker) return;
    this.worker = null;
    this.pending.rejectAll(() => new LinkError('unavailable', 'the database stopped; try again'));
    if (this.state === 'closing' || this.state === 'closed') {
      this.state = 'closed';
      this.closedWaiter?.();
      return;
    }
    const wasStarting = this.state === 'starting';
    this.state = 'down';
    for (const w of this.readyWaiters.splice(0)) w(new Error('the database actor could not start'));
    if (wasStarting && !this.everUp) return; // never came up: a config error, not a crash
    this.options.log?.('database actor stopped; restarting');
    setTimeout(() => {
      if (this.state !== 'down') return;
      this.restartCount++;
      this.spawn();
    }, this.options.restartDelayMs ?? 500).unref();
  }
}

/**
 * What the thread died of, in words. An error thrown in a worker reaches its 'error' listener
 * through structured clone: a real Error keeps its message, anything else (better-sqlite3's
 * SqliteError among them) arrives as a plain object of its own enumerable fields, e.g. {code}.
 */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'object' && err !== null) {
    const { code, message } = err as { code?: unknown; message?: unknown };
    const words = [code, message].filter((x) => typeof x === 'string' && x !== '');
    if (words.length > 0) return words.join(': ');
  }
  return inspect(err, { depth: 2, breakLength: Infinity });
}
