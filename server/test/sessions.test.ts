// Resumable sessions (docs/reference/protocol.md, RESUME, LOGOUT, PASSWORD): LOGIN hands out a
// token, RESUME takes it back without scrypt, LOGOUT and PASSWORD revoke, an expired token is
// refused, and the store keeps only the token's SHA-256, deleting expired rows a few at a time.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startHarness, type Harness } from '../testing/harness.ts';
import { loggedIn, PASSWORD, tempDir, uniqueUser } from '../testing/helpers.ts';
import { WizzClient } from '../client/wizz-client.ts';
import { Req, Srv } from '../protocol/codes.ts';
import { Store } from '../db/store.ts';
import { SESSION_PURGE_MAX, tokenHash } from '../db/sessions.ts';
import * as password from '../db/password.ts';

const code = (f: { type: number; body: Record<string, unknown> }) => (f.type === Srv.ERROR ? f.body.code : 'ok');
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

let h: Harness;
let port: number;
let dbFile: string;
beforeAll(async () => {
  dbFile = path.join(tempDir(), 'wizz.db');
  h = await startHarness({ dbFile, policy: { sessionTtlMs: 60_000 } });
  port = h.ports[0]!;
});
afterAll(() => h?.stop());

async function resume(token: string, p = port): Promise<{ client: WizzClient; reply: { type: number; body: Record<string, unknown> } }> {
  const client = await WizzClient.connect(p);
  return { client, reply: await client.request(Req.RESUME, { token }) };
}

describe('LOGIN hands out a token; RESUME takes it back', () => {
  it('RESUME answers like LOGIN (same token), then the stored messages; it costs no scrypt', async () => {
    const a = await loggedIn(port);
    const token = a.login.token as string;
    expect(token).toMatch(TOKEN);
    const sender = await loggedIn(port);
    await a.client.close();
    await sender.client.call(Req.SEND, { to: a.user, text: 'while you were away' });
    const scrypt = vi.spyOn(password, 'verifyPassword');
    const { client, reply } = await resume(token);
    expect(scrypt).not.toHaveBeenCalled();
    scrypt.mockRestore();
    expect(reply).toEqual({ type: Srv.OK, body: { re: expect.anything(), user: a.user, pending: 1, token } });
    expect((await client.nextPush((f) => f.type === Srv.MESSAGE)).body.text).toBe('while you were away');
    // A resumed session is a session: it can send, and it is online.
    expect((await client.call(Req.WHO, {})).users).toContain(a.user);
    await Promise.all([client.close(), sender.client.close()]);
  });

  it('RESUME replaces an older session of the user, like LOGIN', async () => {
    const a = await loggedIn(port);
    const { client, reply } = await resume(a.login.token as string);
    expect(code(reply)).toBe('ok');
    expect((await a.client.nextPush((f) => f.type === Srv.ERROR)).body.code).toBe('session_replaced');
    await client.close();
  });

  it('an unknown token is auth_failed with LOGIN\'s message; a malformed one bad_request; on a logged-in connection bad_request', async () => {
    const { client, reply } = await resume('A'.repeat(43));
    expect(code(reply)).toBe('auth_failed');
    const wrong = await client.request(Req.LOGIN, { user: uniqueUser('nobody'), password: PASSWORD });
    expect(reply.body.message).toBe(wrong.body.message);
    expect(code(await client.request(Req.RESUME, { token: 'short' }))).toBe('bad_request');
    expect(code(await client.request(Req.RESUME, { token: 7 }))).toBe('bad_request');
    const a = await loggedIn(port);
    expect(code(await a.client.request(Req.RESUME, { token: a.login.token }))).toBe('bad_request');
    await Promise.all([client.close(), a.client.close()]);
  });

  it('the database holds the token\'s SHA-256, never the token', async () => {
    const a = await loggedIn(port);
    const token = a.login.token as string;
    const db = new Database(dbFile, { readonly: true });
    const rows = db.prepare('SELECT token_hash AS hash, name FROM sessions WHERE name = ?').all(a.user) as Array<{ hash: string; name: string }>;
    db.close();
    expect(rows).toEqual([{ hash: tokenHash(token), name: a.user }]);
    await a.client.close();
  });
});

describe('LOGOUT and PASSWORD revoke', () => {
  it('LOGOUT: OK, the connection closes, the user is offline at once, and the token no longer resumes; another token of the user still does', async () => {
    const first = await loggedIn(port);
    const other = await loggedIn(port, first.user, false); // replaces first; both tokens stay valid
    await first.client.closed;
    const watcher = await loggedIn(port);
    expect(code(await other.client.request(Req.LOGOUT, {}))).toBe('ok');
    await other.client.closed;
    expect((await watcher.client.call(Req.WHO, {})).users).not.toContain(first.user);
    expect(code((await resume(other.login.token as string)).reply)).toBe('auth_failed');
    const back = await resume(first.login.token as string);
    expect(code(back.reply)).toBe('ok');
    await Promise.all([back.client.close(), watcher.client.close()]);
  });

  it('LOGOUT {all: true} revokes every token of the user; LOGOUT before login is unauthenticated', async () => {
    const first = await loggedIn(port);
    const second = await loggedIn(port, first.user, false);
    expect(code(await second.client.request(Req.LOGOUT, { all: true }))).toBe('ok');
    await second.client.closed;
    for (const t of [first.login.token, second.login.token]) expect(code((await resume(t as string)).reply)).toBe('auth_failed');
    const anon = await WizzClient.connect(port);
    expect(code(await anon.request(Req.LOGOUT, {}))).toBe('unauthenticated');
    expect(code(await anon.request(Req.PASSWORD, { password: PASSWORD, newPassword: 'another one' }))).toBe('unauthenticated');
    expect(code(await anon.request(Req.LOGOUT, { all: 'yes' }))).toBe('unauthenticated');
    await anon.close();
  });

  it('PASSWORD: a wrong current password is auth_failed; the right one revokes every token and hands this session a fresh one', async () => {
    const a = await loggedIn(port);
    const old = await loggedIn(port, a.user, false); // a second token (replaces a's connection)
    expect(code(await old.client.request(Req.PASSWORD, { password: 'not the password', newPassword: 'brand new password' }))).toBe('auth_failed');
    expect(code(await old.client.request(Req.PASSWORD, { password: PASSWORD, newPassword: 'short' }))).toBe('bad_request');
    const ok = await old.client.call(Req.PASSWORD, { password: PASSWORD, newPassword: 'brand new password' });
    expect(ok.token).toMatch(TOKEN);
    for (const t of [a.login.token, old.login.token]) expect(code((await resume(t as string)).reply)).toBe('auth_failed');
    // The connection stays logged in; the new password and the fresh token both work.
    expect(code(await old.client.request(Req.PING, {}))).toBe('ok');
    await old.client.close();
    const again = await WizzClient.connect(port);
    expect(code(await again.request(Req.LOGIN, { user: a.user, password: PASSWORD }))).toBe('auth_failed');
    expect(code(await again.request(Req.LOGIN, { user: a.user, password: 'brand new password' }))).toBe('ok');
    await again.close();
    const fresh = await resume(ok.token as string);
    expect(code(fresh.reply)).toBe('ok');
    await fresh.client.close();
  });
});

describe('failed RESUMEs are throttled per address', () => {
  it('after the allowance, RESUME from that address is rate_limited without a database read; another address is not', async () => {
    const tight = await startHarness({ dbFile: path.join(tempDir(), 'wizz.db'), policy: { failedResumesPerAddress: { burst: 3, refillPerS: 0.01 } } });
    try {
      const port2 = tight.ports[0]!;
      const a = await loggedIn(port2);
      await a.client.close();
      const guesser = await WizzClient.connect(port2, '127.0.0.1', 10_000, '127.0.0.5');
      for (let i = 0; i < 3; i++) expect(code(await guesser.request(Req.RESUME, { token: `${i}`.padEnd(43, 'x') }))).toBe('auth_failed');
      const reads = vi.spyOn(tight.reactors[0]!.db, 'resumeSession');
      const refused = await guesser.request(Req.RESUME, { token: a.login.token });
      expect(code(refused)).toBe('rate_limited');
      expect(String(refused.body.message)).toMatch(/too many failed resumes; try again in \d+ s/);
      expect(reads).not.toHaveBeenCalled();
      reads.mockRestore();
      const owner = await WizzClient.connect(port2);
      expect(code(await owner.request(Req.RESUME, { token: a.login.token }))).toBe('ok');
      await Promise.all([guesser.close(), owner.close()]);
    } finally {
      await tight.stop();
    }
  });
});

describe('tokens expire', () => {
  it('a token past its lifetime is auth_failed', async () => {
    const short = await startHarness({ dbFile: path.join(tempDir(), 'wizz.db'), policy: { sessionTtlMs: 300 } });
    try {
      const a = await loggedIn(short.ports[0]!);
      await a.client.close();
      await new Promise((r) => setTimeout(r, 400));
      const { client, reply } = await resume(a.login.token as string, short.ports[0]!);
      expect(code(reply)).toBe('auth_failed');
      await client.close();
    } finally {
      await short.stop();
    }
  });

  it('the store deletes expired rows, at most SESSION_PURGE_MAX per new session, never a valid one', () => {
    const file = path.join(tempDir(), 'purge.db');
    const store = new Store(file);
    const run = (op: 'createSession' | 'resumeSession', args: unknown[]) =>
      store.execute([{ id: 1, op, args } as never])[0]!;
    // 100 rows that have expired, written behind the store's back.
    const side = new Database(file);
    const insert = side.prepare('INSERT INTO sessions (token_hash, name, created, expires) VALUES (?, ?, ?, ?)');
    for (let i = 0; i < 100; i++) insert.run(`old-${i}`, 'someone', 0, Date.now() - 1_000);
    const count = () => side.prepare('SELECT count(*) FROM sessions').pluck().get() as number;
    expect(count()).toBe(100);
    run('createSession', ['valid', 'someone', Date.now() + 60_000]);
    expect(count()).toBe(100 - SESSION_PURGE_MAX + 1);
    run('createSession', ['valid-2', 'someone', Date.now() + 60_000]);
    expect(count()).toBe(2);
    expect(run('resumeSession', ['valid'])).toEqual({ id: 1, ok: true, value: 'someone' });
    side.close();
    store.close();
  });
});
