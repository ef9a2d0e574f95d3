// How the load tools get a simulated user in: REGISTER (a taken name is fine: accounts are reused
// across runs) and LOGIN once, keeping LOGIN's session token; after a dropped connection, RESUME
// with the token — no password, no scrypt. A load generator is one client address, so the server's
// per-address limits (the hash gate's queue, REGISTER's bucket) push back with rate_limited and say
// how long to wait: we wait that long and try again, until the caller's deadline.
import { WizzClient } from '../client/wizz-client.ts';
import { Req, Srv } from '../protocol/codes.ts';
import type { Frame } from '../protocol/frame.ts';

export class SignInFailed extends Error {
  constructor(readonly code: string) {
    super(code);
  }
}

/** The wait a rate_limited message asks for ("retry in 3 s", "try again in 250 ms"), at most 10 s. */
export function retryAfterMs(message: unknown): number {
  const m = /(?:retry|try again) in (\d+) (ms|s)\b/.exec(String(message));
  const ms = m ? Number(m[1]) * (m[2] === 's' ? 1000 : 1) : 500;
  return Math.min(Math.max(ms, 50), 10_000);
}

/** Sends one request, waiting out rate_limited until `deadline` (ms since the epoch). */
async function patiently(c: WizzClient, type: number, body: Record<string, unknown>, deadline: number): Promise<Frame> {
  for (;;) {
    const reply = await c.request(type, body, 60_000);
    if (reply.type !== Srv.ERROR || reply.body.code !== 'rate_limited' || Date.now() >= deadline) return reply;
    await new Promise((r) => setTimeout(r, Math.min(retryAfterMs(reply.body.message), Math.max(0, deadline - Date.now()))));
  }
}

/** REGISTER (unless taken) and LOGIN on `c`; the LOGIN reply's body (with `token`), or SignInFailed. */
export async function signIn(c: WizzClient, user: string, password: string, deadline = Date.now() + 600_000): Promise<Record<string, unknown>> {
  const reg = await patiently(c, Req.REGISTER, { user, password }, deadline);
  if (reg.type === Srv.ERROR && reg.body.code !== 'user_taken') throw new SignInFailed(String(reg.body.code));
  const login = await patiently(c, Req.LOGIN, { user, password }, deadline);
  if (login.type === Srv.ERROR) throw new SignInFailed(String(login.body.code));
  return login.body;
}

/** RESUME on `c` with LOGIN's token; the reply's body, or SignInFailed. */
export async function resumeSession(c: WizzClient, token: string, deadline = Date.now() + 60_000): Promise<Record<string, unknown>> {
  const reply = await patiently(c, Req.RESUME, { token }, deadline);
  if (reply.type === Srv.ERROR) throw new SignInFailed(String(reply.body.code));
  return reply.body;
}
