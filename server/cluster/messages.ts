// What travels on the pub/sub channels, as JSON. A host channel carries dm, wizzed and replace for
// the users the host owns; a room channel carries room messages and presence. Presence and replace
// are published by the Lua scripts (cjson), the rest by RedisHub: decode() accepts both spellings
// of a number (cjson hands over what Redis stored, strings).
import type { StoredMessage } from '../router/router.ts';

export type HostMessage =
  | { t: 'dm'; msg: StoredMessage }
  | { t: 'wizzed'; to: string; from: string; ts: number }
  /** The session (reactor, session, fence) of `user` on this host was replaced by a newer claim. */
  | { t: 'replace'; user: string; reactor: number; session: number; fence: number };

export type RoomMessage =
  | { t: 'room'; room: string; from: string; text: string; ts: number }
  | { t: 'presence'; room: string; user: string; event: 'join' | 'leave' };

export type ChannelMessage = HostMessage | RoomMessage;

export function encode(m: ChannelMessage): string {
  return JSON.stringify(m);
}

/** The message, or undefined when the payload is not one of ours (logged by the caller). */
export function decode(payload: string): ChannelMessage | undefined {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(payload) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  switch (v.t) {
    case 'dm': {
      const m = v.msg as Record<string, unknown> | undefined;
      if (!m || !str(m.from) || !str(m.to) || !str(m.text) || !num(m.msgId) || !num(m.ts)) return undefined;
      return { t: 'dm', msg: { msgId: Number(m.msgId), from: m.from, to: m.to, text: m.text, ts: Number(m.ts) } };
    }
    case 'wizzed':
      return str(v.to) && str(v.from) && num(v.ts) ? { t: 'wizzed', to: v.to, from: v.from, ts: Number(v.ts) } : undefined;
    case 'replace':
      return str(v.user) && num(v.reactor) && num(v.session) && num(v.fence)
        ? { t: 'replace', user: v.user, reactor: Number(v.reactor), session: Number(v.session), fence: Number(v.fence) }
        : undefined;
    case 'room':
      return str(v.room) && str(v.from) && str(v.text) && num(v.ts)
        ? { t: 'room', room: v.room, from: v.from, text: v.text, ts: Number(v.ts) }
        : undefined;
    case 'presence':
      return str(v.room) && str(v.user) && (v.event === 'join' || v.event === 'leave')
        ? { t: 'presence', room: v.room, user: v.user, event: v.event }
        : undefined;
    default:
      return undefined;
  }
}

function str(x: unknown): x is string {
  return typeof x === 'string';
}

function num(x: unknown): boolean {
  return (typeof x === 'number' || typeof x === 'string') && x !== '' && Number.isFinite(Number(x));
}
