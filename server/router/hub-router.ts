// A reactor's Router that reaches the Hub in the primary over a LinkClient (cluster IPC, or the
// in-memory pair in the single-process harness). The reactor id travels implicitly: the primary
// knows which link a message came from.
//
// SAY is a one-way post when the primary's hub cannot fail to route it (one host, in memory), and a
// request answered by the primary when it can (many hosts on Redis): then a SAY that could not be
// published gets ERROR unavailable instead of an OK for a message nobody will see.
import type { LinkClient } from './link.ts';
import type { JoinResult, RouteEvent, Router, StoredMessage, WizzResult } from './router.ts';

export interface HubRouterOptions {
  /** The primary routes between hosts and may fail: SAY waits for its answer. */
  acknowledgedSay?: boolean;
}

export class HubRouter implements Router {
  private readonly acknowledgedSay: boolean;

  constructor(
    private readonly link: LinkClient,
    options: HubRouterOptions = {},
  ) {
    this.acknowledgedSay = options.acknowledgedSay ?? false;
  }

  async claim(user: string, session: number): Promise<void> {
    await this.link.ask({ op: 'claim', user, session });
  }
  release(user: string, session: number): void {
    this.link.tell({ op: 'release', user, session });
  }
  deliver(msg: StoredMessage): void {
    this.link.tell({ op: 'deliver', msg });
  }
  wizz(from: string, to: string, ts: number): Promise<WizzResult> {
    return this.link.ask({ op: 'wizz', from, to, ts });
  }
  join(room: string, user: string, session: number, onJoined?: () => void): Promise<JoinResult> {
    return this.link.ask({ op: 'join', room, user, session }, onJoined && (() => onJoined()));
  }
  leave(room: string, user: string, session: number): Promise<boolean> {
    return this.link.ask({ op: 'leave', room, user, session });
  }
  async say(room: string, from: string, text: string, ts: number): Promise<void> {
    if (this.acknowledgedSay) await this.link.ask({ op: 'say', room, from, text, ts });
    else this.link.tell({ op: 'say', room, from, text, ts });
  }
  who(room: string | undefined, limit: number): Promise<string[]> {
    return this.link.ask({ op: 'who', room: room ?? null, limit });
  }
  whenReady(): Promise<void> | null {
    return this.link.whenReady();
  }
  onEvent(handler: (ev: RouteEvent) => void): void {
    this.link.onEvent(handler);
  }
}
