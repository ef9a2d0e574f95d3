// The primary's dispatcher: every reactor's link ends here. Router requests go to the hub backend
// (the in-memory Hub answers at once, in order; the RedisHub of a multi-host server answers when
// Redis has), database requests to the store (answered when committed). Events the hub emits for a
// reactor travel down that reactor's link, batched per loop iteration.
import { Hub, type Emit } from '../router/hub.ts';
import { Batcher, LinkError, type DownMsg, type Transport, type UpMsg } from '../router/link.ts';
import { localBackend, type HubBackend } from '../router/ops.ts';
import { DownFlow } from '../router/down-flow.ts';
import { dbCallFrom, type DbCall } from '../db/ops.ts';

export interface DbCaller {
  send(call: DbCall): Promise<unknown>;
}

export interface SwitchboardOptions {
  maxRoomMembers?: number;
  /** Builds the hub backend around the switchboard's emit; default: the in-memory Hub of one host. */
  hub?: (emit: Emit) => HubBackend;
}

export class Switchboard {
  readonly hub: HubBackend;
  private readonly links = new Map<number, Batcher<DownMsg>>();
  private readonly downFlow = new DownFlow();

  constructor(
    private readonly db: DbCaller,
    options: SwitchboardOptions = {},
  ) {
    const emit: Emit = (reactor, ev) => this.links.get(reactor)?.push({ k: 'ev', ev });
    this.hub = options.hub?.(emit) ?? localBackend(new Hub(emit, options.maxRoomMembers));
  }

  attach(reactor: number, transport: Transport<DownMsg, UpMsg>): void {
    this.links.set(
      reactor,
      new Batcher((batch) => {
        this.downFlow.sent(reactor, batch.length);
        transport.send(batch);
      }),
    );
    transport.onReceive((batch) => {
      for (const msg of batch) this.handle(reactor, msg);
    });
  }

  /** The reactor is gone (exited or crashed): its users are offline, its memberships dropped. */
  detach(reactor: number): void {
    this.links.delete(reactor);
    this.downFlow.forget(reactor);
    this.hub.reactorGone(reactor);
  }

  private reply(reactor: number, msg: DownMsg): void {
    this.links.get(reactor)?.push(msg);
  }

  private handle(reactor: number, msg: UpMsg): void {
    if (msg.k === 'ack') {
      this.downFlow.acked(reactor, msg.n);
      return;
    }
    if (msg.to === 'db') {
      const call = dbCallFrom(msg.op, msg.args);
      const result = call ? this.db.send(call) : Promise.reject(new LinkError('unavailable', `unknown database op "${msg.op}"`));
      if (msg.k === 'post') {
        result.catch(() => {}); // e.g. markDelivered while the actor restarts: the next LOGIN resends
        return;
      }
      const id = msg.id;
      result.then(
        (value) => this.reply(reactor, { k: 'res', id, ok: true, value }),
        (err: Error) =>
          this.reply(reactor, {
            k: 'res',
            id,
            ok: false,
            code: err instanceof LinkError ? err.code : 'unavailable',
            message: err.message,
          }),
      );
      return;
    }
    try {
      if (msg.k === 'post') {
        this.hub.apply(reactor, msg.call);
        return;
      }
      if (msg.call.op === 'sync') {
        // Answered once no reactor is far behind on what we sent it: backpressure on the senders.
        const id = msg.id;
        this.downFlow.whenClear(() => this.reply(reactor, { k: 'res', id, ok: true, value: null }));
        return;
      }
      const id = msg.id;
      const value = this.hub.serve(reactor, msg.call);
      if (value instanceof Promise) {
        value.then(
          (v: unknown) => this.reply(reactor, { k: 'res', id, ok: true, value: v ?? null }),
          (err: unknown) => this.refuse(reactor, id, err),
        );
      } else this.reply(reactor, { k: 'res', id, ok: true, value: value ?? null });
    } catch (err) {
      if (msg.k === 'req') this.refuse(reactor, msg.id, err);
    }
  }

  private refuse(reactor: number, id: number, err: unknown): void {
    const e = err instanceof LinkError ? err : new LinkError('unavailable', (err as Error).message);
    this.reply(reactor, { k: 'res', id, ok: false, code: e.code, message: e.message });
  }
}
