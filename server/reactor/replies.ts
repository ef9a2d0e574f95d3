// Replies go out in request order, but a request need not hold up the ones after it while it waits
// for a confirmation that changes nothing they depend on: a SAY across hosts waits for Redis to take
// the PUBLISH, yet the session's next request can run meanwhile (the router keeps their order). Such
// a request is Pipelined; its reply, and every reply after it, waits its turn here.
import type { Session } from './session.ts';

/** A handler's answer that comes later: the OK's fields, or the error that replaces it. */
export class Pipelined {
  constructor(readonly reply: Promise<Record<string, unknown>>) {}
}

/** Pipelined requests a session may have unanswered; its next request waits for the oldest beyond. */
export const PIPELINE_MAX = 16;

/**
 * Sends a reply in its turn: `send` now when nothing before it is waiting, else after what is; a
 * promise of `send` once it is known. Returns the promise of the reply going out, or null when it
 * went out now. `send` must not throw (the reactor's senders turn every failure into an ERROR).
 */
export function replyInTurn(s: Session, send: (() => void) | Promise<() => void>): Promise<void> | null {
  if (typeof send === 'function' && s.unsent === 0) {
    send();
    return null;
  }
  s.unsent++;
  const tail = (s.replyTail ?? Promise.resolve())
    .then(() => send)
    .then((go) => {
      try {
        go();
      } finally {
        if (--s.unsent === 0) s.replyTail = null;
      }
    });
  s.replyTail = tail;
  return tail;
}
