// The Hub's operations as types: what a reactor may ask (a request, answered) or tell (a post, not
// answered), and what each answer is. The reactor's HubRouter builds them, the primary's
// switchboard hands them to serveHub(): an op name or a field that does not match is a compile
// error, not a cast.
import { LinkError } from './link.ts';
import type { Hub } from './hub.ts';
import type { JoinResult, StoredMessage, WizzResult } from './router.ts';

export type HubCall =
  | { op: 'claim'; user: string; session: number }
  | { op: 'wizz'; from: string; to: string; ts: number }
  | { op: 'join'; room: string; user: string; session: number }
  | { op: 'leave'; room: string; user: string; session: number }
  | { op: 'who'; room: string | null; limit: number }
  /** SAY as a request: only when the hub may fail to route it (see hub-router.ts). */
  | { op: 'say'; room: string; from: string; text: string; ts: number }
  /** Answered once everything the reactor sent before it was handled: the link's flow control. */
  | { op: 'sync' };

export interface HubResults {
  claim: null;
  wizz: WizzResult;
  join: JoinResult;
  leave: boolean;
  who: string[];
  say: null;
  sync: null;
}

export type HubPost =
  | { op: 'release'; user: string; session: number }
  | { op: 'deliver'; msg: StoredMessage }
  | { op: 'say'; room: string; from: string; text: string; ts: number };

/** Runs one request from `reactor` on the Hub; throws LinkError with the protocol code on refusal. */
export function serveHub<C extends HubCall>(hub: Hub, reactor: number, call: C): HubResults[C['op']];
export function serveHub(hub: Hub, reactor: number, call: HubCall): HubResults[HubCall['op']] {
  switch (call.op) {
    case 'claim':
      hub.claim(call.user, reactor, call.session);
      return null;
    case 'wizz':
      return hub.wizz(call.from, call.to, call.ts);
    case 'join': {
      if (!hub.canJoin(call.room, call.user)) throw new LinkError('limit_reached', `${call.room} is full`);
      const result = hub.join(call.room, call.user, reactor, call.session);
      if (!result) throw new LinkError('session_replaced', 'this session was replaced by a newer login');
      return result;
    }
    case 'leave':
      return hub.leave(call.room, call.user, reactor, call.session);
    case 'who':
      return hub.who(call.room ?? undefined, call.limit);
    case 'say':
      hub.say(call.room, call.from, call.text, call.ts);
      return null;
    case 'sync':
      return null;
  }
}

/**
 * What the switchboard drives: the in-memory Hub of one host (answers at once, so replies and events
 * keep their order on the link) or the RedisHub of many (answers later, may fail).
 */
export interface HubBackend {
  serve(reactor: number, call: Exclude<HubCall, { op: 'sync' }>): unknown;
  apply(reactor: number, post: HubPost): void;
  /** A reactor process died: everything it owned is gone. */
  reactorGone(reactor: number): void;
  /** Users online (on every host). */
  readonly onlineCount: number;
}

/** The one-host backend: the Hub, synchronously. */
export function localBackend(hub: Hub): HubBackend {
  return {
    serve: (reactor, call) => serveHub(hub, reactor, call),
    apply: (reactor, post) => applyHubPost(hub, reactor, post),
    reactorGone: (reactor) => hub.reactorGone(reactor),
    get onlineCount() {
      return hub.onlineCount;
    },
  };
}

/** Applies one post from `reactor` to the Hub. */
export function applyHubPost(hub: Hub, reactor: number, post: HubPost): void {
  switch (post.op) {
    case 'release':
      hub.release(post.user, reactor, post.session);
      return;
    case 'deliver':
      hub.deliver(post.msg);
      return;
    case 'say':
      hub.say(post.room, post.from, post.text, post.ts);
      return;
  }
}
