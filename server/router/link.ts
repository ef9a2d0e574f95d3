// The wire between a reactor and the primary: typed requests with correlation ids, one-way posts,
// and events. Over cluster IPC every message costs a JSON round trip through a pipe, so each side
// batches what it sends in one loop iteration into a single IPC message. The reactor's side is
// flow-controlled: past a bound of unanswered requests or unconfirmed posts it reports congestion,
// and the reactor stops taking requests off its sessions until the primary has caught up.
import type { RouteEvent } from './router.ts';
import type { ErrorCode } from '../protocol/codes.ts';
import type { HubCall, HubPost, HubResults } from './ops.ts';
import { Correlator } from '../util/correlator.ts';

/** Who serves a request in the primary: the Hub (router) or the database actor. */
export type Target = 'hub' | 'db';

export type UpMsg =
  | { k: 'req'; id: number; to: 'hub'; call: HubCall }
  | { k: 'post'; to: 'hub'; call: HubPost }
  // Database operations are typed by LinkDb and checked by the switchboard (db/ops.ts).
  | { k: 'req'; id: number; to: 'db'; op: string; args: unknown[] }
  | { k: 'post'; to: 'db'; op: string; args: unknown[] }
  /** The reactor handled `n` messages the primary sent it (router/down-flow.ts). */
  | { k: 'ack'; n: number };

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

export interface LinkFlow {
  /** Requests waiting for an answer before the link counts as congested. */
  maxPending: number;
  /** A sync request goes out after this many messages; its answer confirms everything before it. */
  syncEvery: number;
  /** Messages sent but not yet confirmed by a sync before the link counts as congested. */
  maxUnconfirmed: number;
}

export const DEFAULT_FLOW: LinkFlow = { maxPending: 4_096, syncEvery: 256, maxUnconfirmed: 8_192 };

/** The reactor's end: requests resolve with the primary's answer or reject with LinkError. */
export class LinkClient {
  private readonly calls = new Correlator();
  private readonly out: Batcher<UpMsg>;
  private readonly flow: LinkFlow;
  private eventHandler: (ev: RouteEvent) => void = () => {};
  private sent = 0;
  private confirmed = 0;
  private sinceSync = 0;
  private readyWaiters: Array<() => void> = [];

  constructor(transport: Transport<UpMsg, DownMsg>, flow: Partial<LinkFlow> = {}) {
    this.flow = { ...DEFAULT_FLOW, ...flow };
    this.out = new Batcher((batch) => transport.send(batch));
    transport.onReceive((batch) => {
      for (const msg of batch) this.receive(msg);
      this.out.push({ k: 'ack', n: batch.length }); // the primary's flow control (down-flow.ts)
      this.wakeIfReady();
    });
  }

  /**
   * Asks the Hub. `onValue` runs synchronously when the answer arrives, before any event that
   * arrived after it in the same batch (a promise continuation would run after the whole batch).
   */
  ask<C extends HubCall>(call: C, onValue?: (value: HubResults[C['op']]) => void): Promise<HubResults[C['op']]> {
    const { id, promise } = this.calls.open(onValue);
    this.push({ k: 'req', id, to: 'hub', call });
    return promise;
  }

  tell(post: HubPost): void {
    this.push({ k: 'post', to: 'hub', call: post });
  }

  /** A database request (typed by LinkDb). */
  request<T>(to: 'db', op: string, args: unknown[]): Promise<T> {
    const { id, promise } = this.calls.open<T>();
    this.push({ k: 'req', id, to, op, args });
    return promise;
  }

  post(to: 'db', op: string, args: unknown[]): void {
    this.push({ k: 'post', to, op, args });
  }

  onEvent(handler: (ev: RouteEvent) => void): void {
    this.eventHandler = handler;
  }

  /** More requests or posts than the flow bounds are waiting for the primary. */
  get congested(): boolean {
    return this.calls.size >= this.flow.maxPending || this.sent - this.confirmed >= this.flow.maxUnconfirmed;
  }

  /** Null when the link takes more now; otherwise a promise that resolves once it has caught up. */
  whenReady(): Promise<void> | null {
    if (!this.congested) return null;
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** The primary is gone: nothing pending will ever be answered. */
  failAll(code: ErrorCode, message: string): void {
    this.calls.rejectAll(() => new LinkError(code, message));
    this.confirmed = this.sent;
    this.wakeIfReady();
  }

  private push(msg: UpMsg): void {
    this.out.push(msg);
    this.sent++;
    if (++this.sinceSync >= this.flow.syncEvery) this.sync();
  }

  private sync(): void {
    this.sinceSync = 0;
    const upTo = this.sent;
    const { id, promise } = this.calls.open<null>(() => {
      this.confirmed = Math.max(this.confirmed, upTo);
    });
    promise.catch(() => {}); // failAll confirms everything anyway
    this.out.push({ k: 'req', id, to: 'hub', call: { op: 'sync' } });
  }

  private wakeIfReady(): void {
    if (this.readyWaiters.length === 0 || this.congested) return;
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w();
  }

  private receive(msg: DownMsg): void {
    if (msg.k === 'ev') {
      this.eventHandler(msg.ev);
      return;
    }
    if (msg.ok) this.calls.resolve(msg.id, msg.value);
    else this.calls.reject(msg.id, new LinkError(msg.code, msg.message));
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
