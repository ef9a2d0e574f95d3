// A reactor's Router that reaches the Hub in the primary over a LinkClient (cluster IPC, or the
// in-memory pair in the single-process harness). The reactor id travels implicitly: the primary
// knows which link a message came from.
import type { LinkClient } from './link.ts';
import type { JoinResult, RouteEvent, Router, StoredMessage, WizzResult } from './router.ts';

export class HubRouter implements Router {
  constructor(private readonly link: LinkClient) {}

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
  say(room: string, from: string, text: string, ts: number): void {
    this.link.tell({ op: 'say', room, from, text, ts });
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
