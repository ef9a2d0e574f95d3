// The primary's dispatcher: every reactor's link ends here. Router requests go to the Hub (answered
// at once, in order), database requests to the actor (answered when committed). Events the Hub
// emits for a reactor travel down that reactor's link, batched per loop iteration.
import { Hub } from '../router/hub.ts';
import { Batcher, LinkError, type DownMsg, type Transport, type UpMsg } from '../router/link.ts';
import { applyHubPost, serveHub } from '../router/ops.ts';
import { DownFlow } from '../router/down-flow.ts';
import { dbCallFrom, type DbCall } from '../db/ops.ts';

export interface DbCaller {
  send(call: DbCall): Promise<unknown>;
}

export class Switchboard {
  readonly hub: Hub;
  private readonly links = new Map<number, Batcher<DownMsg>>();
  private readonly downFlow = new DownFlow();

  constructor(
    private readonly db: DbCaller,
    options: { maxRoomMembers?: number } = {},
  ) {
    this.hub = new Hub((reactor, ev) => this.links.get(reactor)?.push({ k: 'ev', ev }), options.maxRoomMembers);
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
        applyHubPost(this.hub, reactor, msg.call);
        return;
      }
      if (msg.call.op === 'sync') {
        // Answered once no reactor is far behind on what we sent it: backpressure on the senders.
        const id = msg.id;
        this.downFlow.whenClear(() => this.reply(reactor, { k: 'res', id, ok: true, value: null }));
        return;
      }
      const value = serveHub(this.hub, reactor, msg.call);
      this.reply(reactor, { k: 'res', id: msg.id, ok: true, value: value ?? null });
    } catch (err) {
      const e = err instanceof LinkError ? err : new LinkError('unavailable', (err as Error).message);
      if (msg.k === 'req') this.reply(reactor, { k: 'res', id: msg.id, ok: false, code: e.code, message: e.message });
    }
  }
}
