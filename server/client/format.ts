// How the terminal client shows what the server sends: one readable line per frame.
import { Srv, TYPE_NAMES } from '../protocol/codes.ts';
import type { Frame } from '../protocol/frame.ts';

function clock(ts: unknown): string {
  const d = typeof ts === 'number' ? new Date(ts) : new Date();
  return d.toTimeString().slice(0, 5);
}

export function formatPush(frame: Frame, me: string | null): string {
  const b = frame.body;
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
      return `${TYPE_NAMES[frame.type] ?? `0x${frame.type.toString(16)}`} ${JSON.stringify(b)}`;
  }
}

export const HELP = `commands:
  /register [user] <password>   create an account (user defaults to --user)
  /login [user] <password>      log in (stored messages arrive right after)
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
