// Session tokens: what LOGIN hands out and RESUME takes back. A token is 32 random bytes
// (base64url, 43 characters); the store keeps only its SHA-256, so whoever reads the database
// cannot resume anybody. A 256-bit secret needs no slow hash: one SHA-256 and one indexed read.
import crypto from 'node:crypto';

export const TOKEN_BYTES = 32;
/** The length of a token as sent: base64url of 32 bytes, unpadded. */
export const TOKEN_CHARS = 43;
export const TOKEN_RE = /^[A-Za-z0-9_-]{43}$/;

/** Default lifetime of a session token (30 days; --session-ttl). */
export const DEFAULT_SESSION_TTL_MS = 30 * 24 * 3_600_000;

/** Expired session rows a store deletes per createSession, at most: bounded work per write. */
export const SESSION_PURGE_MAX = 64;

export function newToken(): string {
  return crypto.randomBytes(TOKEN_BYTES).toString('base64url');
}

/** What the store keys a token by: its SHA-256 in hex. */
export function tokenHash(token: string): string {
  return crypto.createHash('sha256').update(token).digest('hex');
}
