// How the terminal client shows what the server sends: one readable line per frame.
import { Srv, TYPE_NAMES } from '../protocol/codes.ts';
import type { Frame } from '../protocol/frame.ts';

/**
 * Text from other users, made safe for a terminal: control characters (C0, DEL, C1 — ESC starts the
 * escape sequences that move the cursor, retitle the window or rewrite what is on screen) and the
 * bidirectional overrides that reorder what follows are shown escaped (`\x1b`, `\n`, `\u202e`),
 * so one frame stays one line and nobody can draw on the learner's terminal.
 */
export function printable(value: unknown): string {
  const s = typeof value === 'string' ? value : String(value);
  return s.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (ch) => {
    const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
    if (named[ch]) return named[ch]!;
    const code = ch.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

function clock(ts: unknown): string {
  const d = typeof ts === 'number' ? new Date(ts) : new Date();
  return d.toTimeString().slice(0, 5);
}

export function formatPush(frame: Frame, me: string | null): string {
  // Every field comes from the network: escape them all, not only `text`.
  const b = Object.fromEntries(Object.entries(frame.body).map(([k, v]) => [k, k === 'ts' ? v : printable(v)]));
  switch (frame.type) {
    case Srv.MESSAGE:
      return `[${clock(b.ts)}] ${b.from} → ${b.to === me ? 'you' : b.to}: ${b.text}   (#${b.msgId})`;
    case Srv.ROOM:
      return `[${clock(b.ts)}] ${b.room} <${b.from}> ${b.text}`;
    case Srv.PRESENCE:
      return `* ${b.user} ${b.event === 'join' ? 'joined' : 'left'} ${b.room}`;
    case Srv.WIZZED:
      return `*** ${b.from} wizzed you! ***`;
    case Srv.ERROR:
      return `! ${b.code}: ${b.message}`;
    default:
      return `${TYPE_NAMES[frame.type] ?? `0x${frame.type.toString(16)}`} ${printable(JSON.stringify(frame.body))}`;
  }
}

export const HELP = `commands:
  /register [user] <password>   create an account (user defaults to --user)
  /login [user] <password>      log in (stored messages arrive right after; a dropped
                                connection resumes the session by itself, no password resent)
  /password <old> <new>         change your password (every other session token is revoked)
  /logout [all]                 end this session (all: every device's too) and leave
  /msg <user> <text>            direct message
  /wizz <user>                  nudge someone who is online
  /join <#room>                 join a room and make it the current one
  /leave [#room]                leave a room (default: the current one)
  /who [#room]                  who is online, or who is in a room
  /history <user> [limit]       your conversation with someone, newest first
  /ping                         check the connection
  /help                         this list
  /quit                         leave
  anything else                 say it in the current room`;

/** What a lab server (`npm run lab`) serves: the lab chat, one room, every connection in it. */
export const LAB_HELP = `commands (a lab server serves the lab chat: one room, #lobby, and you are in it):
  /login <name>                 pick your name (any password; the lab keeps no accounts)
  /who                          who is in #lobby
  /ping                         check the connection
  /help                         this list
  /quit                         leave
  anything else                 say it in #lobby`;
