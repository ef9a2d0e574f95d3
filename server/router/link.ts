// The wire between a reactor and the primary: requests with correlation ids, one-way posts, and
// events. Over cluster IPC every message costs a JSON round trip through a pipe, so each side
// batches what it sends in one loop iteration into a single IPC message.
import type { RouteEvent } from './router.ts';
import type { ErrorCode } from '../protocol/codes.ts';

/** Who serves a request in the primary: the Hub (router) or the database actor. */
export type Target = 'hub' | 'db';

export type UpMsg =
  | { k: 'req'; id: number; to: Target; op: string; args: unknown[] }
  | { k: 'post'; to: Target; op: string; args: unknown[] };

export type DownMsg =
  | { k: 'res'; id: number; ok: true; value: unknown }
  | { k: 'res'; id: number; ok: false; code: ErrorCode; message: string }
  | { k: 'ev'; ev: RouteEvent };

/** Sends batches of messages; the receiving side calls back with whole batches. */
export interface Transport<Out, In> {
  send(batch: Out[]): void;
  onReceive(handler: (batch: In[]) => void): void;
}

/** Collects messages during one loop iteration and sends them as one batch. */
export class Batcher<T> {
  private batch: T[] = [];
  constructor(private readonly sendBatch: (batch: T[]) => void) {}

  push(msg: T): void {
    if (this.batch.length === 0) setImmediate(() => this.flush());
    this.batch.push(msg);
  }

  flush(): void {
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    this.sendBatch(batch);
  }
}

export class LinkError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
  }
}

/** The reactor's end: request() resolves with the primary's answer or rejects with LinkError. */
export class LinkClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private readonly out: Batcher<UpMsg>;
  private eventHandler: (ev: RouteEvent) => void = () => {};

  constructor(transport: Transport<UpMsg, DownMsg>) {
    this.out = new Batcher((batch) => transport.send(batch));
    transport.onReceive((batch) => {
      for (const msg of batch) this.receive(msg);
    });
  }

  request<T>(to: Target, op: string, args: unknown[]): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.out.push({ k: 'req', id, to, op, args });
    });
  }

  post(to: Target, op: string, args: unknown[]): void {
    this.out.push({ k: 'post', to, op, args });
  }

  onEvent(handler: (ev: RouteEvent) => void): void {
    this.eventHandler = handler;
  }

  /** The primary is gone: nothing pending will ever be answered. */
  failAll(code: ErrorCode, message: string): void {
    for (const p of this.pending.values()) p.reject(new LinkError(code, message));
    this.pending.clear();
  }

  private receive(msg: DownMsg): void {
    if (msg.k === 'ev') {
      this.eventHandler(msg.ev);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.ok) p.resolve(msg.value);
    else p.reject(new LinkError(msg.code, msg.message));
  }
}

/** Two in-process transports wired back to back (the single-process harness). */
export function memoryPair(): { reactorSide: Transport<UpMsg, DownMsg>; primarySide: Transport<DownMsg, UpMsg> } {
  let toPrimary: (batch: UpMsg[]) => void = () => {};
  let toReactor: (batch: DownMsg[]) => void = () => {};
  return {
    reactorSide: {
      send: (batch) => toPrimary(batch),
      onReceive: (h) => (toReactor = h),
    },
    primarySide: {
      send: (batch) => toReactor(batch),
      onReceive: (h) => (toPrimary = h),
    },
  };
}
