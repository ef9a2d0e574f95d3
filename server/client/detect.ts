// Which kind of server the client is talking to, asked in the protocol itself: WHO before LOGIN.
// The reference server refuses every request but REGISTER, LOGIN and PING until LOGIN
// (`unauthenticated`, docs/reference/protocol.md); the lab chat (labs/kit/chat.ts) puts every
// connection in #lobby the moment it connects, so it answers with the lobby's members. WHO changes
// nothing on either server, so asking is harmless. client.test.ts holds both servers to it.
import { Req, Srv } from '../protocol/codes.ts';
import type { WizzClient } from './wizz-client.ts';

export type ServerKind =
  /** A lab stage's server (`npm run lab`): LOGIN (any password), JOIN #lobby, SAY, WHO, PING; one room. */
  | { kind: 'lab'; members: string[] }
  /** The reference server (`npm start`): the whole protocol, accounts and rooms. */
  | { kind: 'reference' }
  /** No usable answer (a lab whose loop is still a TODO does not answer at all). */
  | { kind: 'unknown'; reason: string };

export const PROBE_TIMEOUT_MS = 3_000;

export async function detectServer(client: WizzClient, timeoutMs = PROBE_TIMEOUT_MS): Promise<ServerKind> {
  let reply;
  try {
    reply = await client.request(Req.WHO, {}, timeoutMs);
  } catch {
    return { kind: 'unknown', reason: `no answer to WHO within ${timeoutMs / 1000} s` };
  }
  if (reply.type === Srv.OK && Array.isArray(reply.body.users)) return { kind: 'lab', members: reply.body.users.map(String) };
  if (reply.type === Srv.ERROR && reply.body.code === 'unauthenticated') return { kind: 'reference' };
  return { kind: 'unknown', reason: `unexpected answer to WHO: ${JSON.stringify(reply.body).slice(0, 120)}` };
}

/** The commands each kind of server serves (the lab chat: docs/labs, labs/kit/chat.ts). */
export const LAB_COMMANDS = new Set(['/login', '/who', '/ping', '/help', '/quit', '/join']);
