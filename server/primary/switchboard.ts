// The primary's dispatcher: every reactor's link ends here. Router requests go to the Hub (answered
// at once, in order), database requests to the actor (answered when committed). Events the Hub
// emits for a reactor travel down that reactor's link, batched per loop iteration.
import { Hub } from '../router/hub.ts';
import { Batcher, LinkError, type DownMsg, type Transport, type UpMsg } from '../router/link.ts';
import type { StoredMessage } from '../router/router.ts';

export interface DbCaller {
  call(op: string, args: unknown[]): Promise<unknown>;
}

export class Switchboard {
  readonly hub: Hub;
  private readonly links = new Map<number, Batcher<DownMsg>>();

  constructor(private readonly db: DbCaller) {
    this.hub = new Hub((reactor, ev) => this.links.get(reactor)?.push({ k: 'ev', ev }));
  }

  attach(reactor: number, transport: Transport<DownMsg, UpMsg>): void {
    this.links.set(reactor, new Batcher((batch) => transport.send(batch)));
    transport.onReceive((batch) => {
      for (const msg of batch) this.handle(reactor, msg);
    });
  }

  /** The reactor is gone (exited or crashed): its users are offline, its memberships dropped. */
  detach(reactor: number): void {
    this.links.delete(reactor);
    this.hub.reactorGone(reactor);
  }

  private reply(reactor: number, msg: DownMsg): void {
    this.links.get(reactor)?.push(msg);
  }

  private handle(reactor: number, msg: UpMsg): void {
    if (msg.to === 'db') {
      const result = this.db.call(msg.op, msg.args);
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
      const value = this.hubCall(reactor, msg.op, msg.args);
      if (msg.k === 'req') this.reply(reactor, { k: 'res', id: msg.id, ok: true, value: value ?? null });
    } catch (err) {
      const e = err instanceof LinkError ? err : new LinkError('unavailable', (err as Error).message);
      if (msg.k === 'req') this.reply(reactor, { k: 'res', id: msg.id, ok: false, code: e.code, message: e.message });
    }
  }

  private hubCall(reactor: number, op: string, a: unknown[]): unknown {
    const hub = this.hub;
    switch (op) {
      case 'claim':
        return hub.claim(a[0] as string, reactor, a[1] as number);
      case 'release':
        return hub.release(a[0] as string, reactor, a[1] as number);
      case 'deliver':
        return hub.deliver(a[0] as StoredMessage);
      case 'wizz':
        return hub.wizz(a[0] as string, a[1] as string, a[2] as number);
      case 'join': {
        const result = hub.join(a[0] as string, a[1] as string, reactor, a[2] as number);
        if (!result) throw new LinkError('session_replaced', 'this session was replaced by a newer login');
        return result;
      }
      case 'leave':
        return hub.leave(a[0] as string, a[1] as string, reactor, a[2] as number);
      case 'say':
        return hub.say(a[0] as string, a[1] as string, a[2] as string, a[3] as number);
      case 'who':
        return hub.who((a[0] as string | null) ?? undefined, a[1] as number);
      default:
        throw new LinkError('unavailable', `unknown router op "${op}"`);
    }
  }
}
