// One connection's protocol state: who it is, which rooms it is in, and the requests waiting their
// turn (a connection's requests are handled one at a time, in order, so replies come in order).
import type { Connection } from './connection.ts';
import type { Frame } from '../protocol/frame.ts';
import type { StoredMessage } from '../router/router.ts';

export type SessionState = 'anon' | 'logging_in' | 'authed';

export class Session {
  user: string | null = null;
  state: SessionState = 'anon';
  readonly rooms = new Set<string>();
  /** Live direct messages that arrived while LOGIN was still sending the stored ones. */
  held: StoredMessage[] = [];
  readonly inbox: Frame[] = [];
  busy = false;
  /** Set when the stream lost its framing; the connection closes once the inbox is answered. */
  badFrame: string | null = null;
  /** For the login deadline and the idle timeout (Reactor.expire). */
  readonly openedAt = Date.now();
  lastFrameAt = this.openedAt;

  constructor(
    readonly id: number,
    readonly conn: Connection,
  ) {}
}
