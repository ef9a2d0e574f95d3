// A reactor's Router that reaches the Hub in the primary over a LinkClient (cluster IPC, or the
// in-memory pair in the single-process harness). The reactor id travels implicitly: the primary
// knows which link a message came from.
import type { LinkClient } from './link.ts';
import type { JoinResult, RouteEvent, Router, StoredMessage, WizzResult } from './router.ts';

export class HubRouter implements Router {
  constructor(private readonly link: LinkClient) {}

  claim(user: string, session: number): Promise<void> {
    return this.link.request('hub', 'claim', [user, session]);
  }
  release(user: string, session: number): void {
    this.link.post('hub', 'release', [user, session]);
  }
  deliver(msg: StoredMessage): void {
    this.link.post('hub', 'deliver', [msg]);
  }
  wizz(from: string, to: string, ts: number): Promise<WizzResult> {
    return this.link.request('hub', 'wizz', [from, to, ts]);
  }
  join(room: string, user: string, session: number): Promise<JoinResult> {
    return this.link.request('hub', 'join', [room, user, session]);
  }
  leave(room: string, user: string, session: number): Promise<boolean> {
    return this.link.request('hub', 'leave', [room, user, session]);
  }
  say(room: string, from: string, text: string, ts: number): void {
    this.link.post('hub', 'say', [room, from, text, ts]);
  }
  who(room: string | undefined, limit: number): Promise<string[]> {
    return this.link.request('hub', 'who', [room ?? null, limit]);
  }
  onEvent(handler: (ev: RouteEvent) => void): void {
    this.link.onEvent(handler);
  }
}
