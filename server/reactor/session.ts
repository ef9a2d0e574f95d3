// One connection's protocol state: who it is, which rooms it is in, and the requests waiting their
// turn (a connection's requests are handled one at a time, in order, so replies come in order).
// Most connections are idle most of the time: the room set and the queues are created when first
// needed, so an idle session is one small object.
import type { Connection } from './connection.ts';
import type { Frame } from '../protocol/frame.ts';
import type { StoredMessage } from '../router/router.ts';

export type SessionState = 'anon' | 'logging_in' | 'authed';

const NONE: readonly never[] = Object.freeze([]);

export class Session {
  user: string | null = null;
  /** The SHA-256 of this session's token (LOGIN, RESUME, PASSWORD), for LOGOUT. */
  tokenHash: string | null = null;
  state: SessionState = 'anon';
  private joined: Set<string> | null = null;
  /** Live direct messages that arrived while LOGIN was still sending the stored ones (null: none). */
  held: StoredMessage[] | null = null;
  /** Requests received and not yet handled (null: none). */
  inbox: Frame[] | null = null;
  busy = false;
  /** Replies waiting for a pipelined request before them (reactor/replies.ts); 0: none. */
  unsent = 0;
  replyTail: Promise<void> | null = null;
  /** Set when the stream lost its framing; the connection closes once the inbox is answered. */
  badFrame: string | null = null;
  /** For the login deadline and the idle timeout (Reactor.expire). */
  readonly openedAt = Date.now();
  lastFrameAt = this.openedAt;

  constructor(
    readonly id: number,
    readonly conn: Connection<Session>,
  ) {}

  /** The rooms this session is in (the set is created on first use). */
  get rooms(): Set<string> {
    return (this.joined ??= new Set());
  }

  /** A copy of the rooms this session is in, without creating the set. */
  roomList(): readonly string[] {
    return this.joined === null ? NONE : [...this.joined];
  }

  get waiting(): number {
    return this.inbox?.length ?? 0;
  }
}
