// Passwords: scrypt with the OWASP parameters by default (N = 2^17, r = 8, p = 1), a fresh salt per
// hash, the parameters stored with each hash (so hashes made with other parameters, and the first
// storage format, keep working), a constant-time comparison, and one answer for an unknown user and
// a wrong password.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import crypto from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { DEFAULT_SCRYPT, hashPassword, parseHash, verifyPassword } from '../db/password.ts';
import { startHarness, type Harness } from '../testing/harness.ts';
import { registered, tempDir, uniqueUser, PASSWORD } from '../testing/helpers.ts';
import { WizzClient } from '../client/wizz-client.ts';
import { Req } from '../protocol/codes.ts';

describe('password hashes', () => {
  it('default: scrypt N = 2^17, r = 8, p = 1 (OWASP), stored with the hash, salted per user', async () => {
    expect(DEFAULT_SCRYPT).toEqual({ logN: 17, r: 8, p: 1 });
    const hash = await hashPassword('a long passphrase');
    expect(hash).toMatch(/^scrypt\$17\$8\$1\$/);
    expect(parseHash(hash)!.params).toEqual(DEFAULT_SCRYPT);
    const again = await hashPassword('a long passphrase', 10);
    expect(parseHash(again)!.salt.equals(parseHash(hash)!.salt)).toBe(false);
  });

  it('a hash keeps verifying with its own parameters, whatever the current default', async () => {
    const cheap = await hashPassword('old password', 10);
    expect(await verifyPassword('old password', cheap, 12)).toBe(true);
    expect(await verifyPassword('old passworD', cheap, 12)).toBe(false);
    // The first format, "scrypt$<logN>$<salt>$<key>" with r = 8, p = 1.
    const salt = crypto.randomBytes(16);
    const key = crypto.scryptSync('legacy secret', salt, 32, { N: 2 ** 10, r: 8, p: 1 });
    const legacy = `scrypt$10$${salt.toString('base64')}$${key.toString('base64')}`;
    expect(await verifyPassword('legacy secret', legacy, 10)).toBe(true);
    expect(await verifyPassword('legacy secreT', legacy, 10)).toBe(false);
    expect(await verifyPassword('legacy secret', 'plain text', 10)).toBe(false);
  });

  it('compares in constant time, also for unknown users (against a dummy hash of the same cost)', async () => {
    const spy = vi.spyOn(crypto, 'timingSafeEqual');
    const hash = await hashPassword('secret password', 10);
    expect(await verifyPassword('wrong password', hash, 10)).toBe(false);
    expect(await verifyPassword('secret password', null, 10)).toBe(false);
    expect(spy).toHaveBeenCalledTimes(2);
    spy.mockRestore();
  });
});

describe('over the wire', () => {
  let h: Harness;
  let file: string;
  beforeAll(async () => {
    file = path.join(tempDir(), 'wizz.db');
    h = await startHarness({ dbFile: file });
  });
  afterAll(() => h?.stop());

  it('unknown user and wrong password get the same code and message', async () => {
    const user = await registered(h.ports[0]!);
    const c = await WizzClient.connect(h.ports[0]!);
    const wrong = await c.request(Req.LOGIN, { id: 1, user, password: 'not the password' });
    const unknown = await c.request(Req.LOGIN, { id: 1, user: 'no_such_name_here', password: 'not the password' });
    expect(unknown).toEqual(wrong);
    expect(wrong.body.code).toBe('auth_failed');
    await c.close();
  });

  it('a password with a lone surrogate is bad_request: two different passwords never open one account', async () => {
    // UTF-8 (scrypt's input) has no lone surrogates: Node encodes each as U+FFFD, so "\ud800"×8,
    // "\udc00"×8 and "\ufffd"×8 would hash alike.
    const port = h.ports[0]!;
    const user = uniqueUser('lone');
    const c = await WizzClient.connect(port);
    const refused = await c.request(Req.REGISTER, { user, password: '\ud800'.repeat(8) });
    expect(refused.body).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/"password".*well-formed/) });
    // Nothing was created: the name is free for a well-formed password of the U+FFFDs Node would have hashed.
    await c.call(Req.REGISTER, { user, password: '\ufffd'.repeat(8) });
    for (const password of ['\ud800'.repeat(8), '\udc00'.repeat(8), '\udfff'.repeat(8), '\ud800\udbff'.repeat(4), `${PASSWORD}\udc00`]) {
      expect((await c.request(Req.LOGIN, { user, password })).body.code).toBe('bad_request');
    }
    await c.call(Req.LOGIN, { user, password: '\ufffd'.repeat(8) });
    const change = await c.request(Req.PASSWORD, { password: '\ufffd'.repeat(8), newPassword: '\udc00'.repeat(8) });
    expect(change.body).toMatchObject({ code: 'bad_request', message: expect.stringMatching(/"newPassword".*well-formed/) });
    await c.close();
  });

  it('an account whose hash was stored in the first format still logs in', async () => {
    const salt = crypto.randomBytes(16);
    const key = crypto.scryptSync(PASSWORD, salt, 32, { N: 2 ** 10, r: 8, p: 1 });
    const db = new Database(file);
    db.pragma('busy_timeout = 5000');
    db.prepare('INSERT INTO users (name, hash, created) VALUES (?, ?, ?)').run('legacy_user', `scrypt$10$${salt.toString('base64')}$${key.toString('base64')}`, Date.now());
    db.close();
    const c = await WizzClient.connect(h.ports[0]!);
    expect((await c.call(Req.LOGIN, { user: 'legacy_user', password: PASSWORD })).user).toBe('legacy_user');
    await c.close();
  });
});
