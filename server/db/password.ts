// Passwords are hashed with scrypt on libuv's thread pool (crypto.scrypt is asynchronous), so a
// login never blocks the reactor's loop, and compared in constant time. Each hash carries its own
// salt and cost parameters, so the defaults can be raised without locking anybody out.
import crypto from 'node:crypto';

const KEY_BYTES = 32;
const SALT_BYTES = 16;

export interface ScryptParams {
  logN: number;
  r: number;
  p: number;
}

/**
 * OWASP Password Storage Cheat Sheet (scrypt, when Argon2id is unavailable): N = 2^17, r = 8,
 * p = 1 — 128 MiB and ≈ 0.3 s of one core per hash here. Tests pass a lower logN.
 */
export const DEFAULT_SCRYPT: ScryptParams = { logN: 17, r: 8, p: 1 };

function options({ logN, r, p }: ScryptParams): crypto.ScryptOptions {
  // scrypt needs 128·N·r bytes (per lane); give it twice that plus slack.
  return { N: 2 ** logN, r, p, maxmem: 256 * 2 ** logN * r + 1024 * 1024 };
}

function scrypt(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    crypto.scrypt(password.normalize('NFC'), salt, KEY_BYTES, options(params), (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/** "scrypt$<logN>$<r>$<p>$<salt b64>$<key b64>". */
export async function hashPassword(password: string, logN = DEFAULT_SCRYPT.logN): Promise<string> {
  const params = { ...DEFAULT_SCRYPT, logN };
  const salt = crypto.randomBytes(SALT_BYTES);
  const key = await scrypt(password, salt, params);
  return `scrypt$${params.logN}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface Parsed {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

/** Both the current format and the first one, "scrypt$<logN>$<salt>$<key>" (r = 8, p = 1). */
export function parseHash(hash: string): Parsed | null {
  const parts = hash.split('$');
  if (parts[0] !== 'scrypt') return null;
  const fields = parts.length === 4 ? [parts[1], '8', '1', parts[2], parts[3]] : parts.length === 6 ? parts.slice(1) : null;
  if (!fields) return null;
  const [logN, r, p] = fields.slice(0, 3).map(Number) as [number, number, number];
  const ok = (n: number, max: number) => Number.isInteger(n) && n >= 1 && n <= max;
  if (!ok(logN, 24) || !ok(r, 64) || !ok(p, 16)) return null;
  const key = Buffer.from(fields[4]!, 'base64');
  if (key.length !== KEY_BYTES) return null;
  return { params: { logN, r, p }, salt: Buffer.from(fields[3]!, 'base64'), key };
}

// Unknown users are checked against a hash of the same cost, so both failures take the same time.
const dummies = new Map<number, Promise<string>>();

/** True when `password` matches `stored`; with `stored` null it burns the same time and says false. */
export async function verifyPassword(password: string, stored: string | null, logN = DEFAULT_SCRYPT.logN): Promise<boolean> {
  let dummy = dummies.get(logN);
  if (!dummy) dummies.set(logN, (dummy = hashPassword('not-a-real-password', logN)));
  const parsed = parseHash(stored ?? (await dummy));
  if (!parsed) return false;
  const actual = await scrypt(password, parsed.salt, parsed.params);
  return crypto.timingSafeEqual(actual, parsed.key) && stored !== null;
}
