// Passwords are hashed with scrypt on libuv's thread pool (crypto.scrypt is asynchronous), so a
// login never blocks the reactor's loop, and compared in constant time.
import crypto from 'node:crypto';

const KEY_BYTES = 32;
const SALT_BYTES = 16;
// N = 2^14, r = 8, p = 1: Node's default, ≈ 50 ms and 16 MiB per hash on the reference machine.
const DEFAULT_LOG_N = 14;

function params(logN: number): crypto.ScryptOptions {
  return { N: 2 ** logN, r: 8, p: 1, maxmem: 256 * 2 ** logN * 8 + 1024 * 1024 };
}

function scrypt(password: string, salt: Buffer, logN: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    crypto.scrypt(password.normalize('NFC'), salt, KEY_BYTES, params(logN), (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** "scrypt$<logN>$<salt b64>$<key b64>" — the cost travels with the hash so it can be raised later. */
export async function hashPassword(password: string, logN = DEFAULT_LOG_N): Promise<string> {
  const salt = crypto.randomBytes(SALT_BYTES);
  const key = await scrypt(password, salt, logN);
  return `scrypt$${logN}$${salt.toString('base64')}$${key.toString('base64')}`;
}

// Unknown users are checked against this, so both failures cost the same time.
let dummy: Promise<string> | null = null;

/** True when `password` matches `stored`; with `stored` null it burns the same time and says false. */
export async function verifyPassword(password: string, stored: string | null, logN = DEFAULT_LOG_N): Promise<boolean> {
  const hash = stored ?? (await (dummy ??= hashPassword('not-a-real-password', logN)));
  const [scheme, cost, saltB64, keyB64] = hash.split('$');
  if (scheme !== 'scrypt' || !cost || !saltB64 || !keyB64) return false;
  const expected = Buffer.from(keyB64, 'base64');
  if (expected.length !== KEY_BYTES) return false;
  const actual = await scrypt(password, Buffer.from(saltB64, 'base64'), Number(cost));
  return crypto.timingSafeEqual(actual, expected) && stored !== null;
}
