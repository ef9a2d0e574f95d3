// Field rules of wizz protocol v1. Each check throws WizzError('bad_request') naming the field.
import { WizzError } from './codes.ts';

export const USER_RE = /^[a-z0-9_]{3,24}$/;
export const ROOM_RE = /^#[a-z0-9_-]{1,32}$/;
export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;
export const TEXT_MAX = 4_000;
export const HISTORY_DEFAULT = 50;
export const HISTORY_MAX = 100;

export type RequestId = string | number;

/** Unicode code points in `s` (a surrogate pair counts once), without allocating. */
export function codePoints(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

function bad(message: string): never {
  throw new WizzError('bad_request', message);
}

/**
 * Whether `s` is well-formed Unicode: no lone UTF-16 surrogate. JSON's "\ud800" escape makes one,
 * and UTF-8 (the database, scrypt's input) cannot hold it: it would come back as U+FFFD, so two
 * different passwords would hash alike and a stored text would differ from the one sent.
 * (String.prototype.isWellFormed is in Node 20; the project's TypeScript lib is ES2023.)
 */
export function wellFormed(s: string): boolean {
  return (s as string & { isWellFormed(): boolean }).isWellFormed();
}

/** A string id longer than this is refused: every reply echoes the id, and must fit in a frame. */
export const ID_MAX = 128;

/**
 * The request id, or undefined when it is missing, not a string/number, or a string longer than
 * ID_MAX UTF-16 units or not well-formed (such a request gets bad_request without `re`).
 */
export function requestId(body: Record<string, unknown>): RequestId | undefined {
  const id = body.id;
  if (typeof id === 'string') return id.length <= ID_MAX && wellFormed(id) ? id : undefined;
  if (typeof id === 'number' && Number.isFinite(id)) return id;
  return undefined;
}

export function str(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (v === undefined) bad(`missing field "${field}"`);
  if (typeof v !== 'string') bad(`field "${field}" must be a string`);
  if (!wellFormed(v)) bad(`field "${field}" must be well-formed Unicode (a lone surrogate such as \\ud800 is not a character)`);
  return v;
}

export function userName(body: Record<string, unknown>, field: string): string {
  const v = str(body, field);
  if (!USER_RE.test(v)) bad(`field "${field}" must be a user name matching ^[a-z0-9_]{3,24}$`);
  return v;
}

export function password(body: Record<string, unknown>): string {
  const v = str(body, 'password');
  const n = codePoints(v);
  if (n < PASSWORD_MIN || n > PASSWORD_MAX) bad(`field "password" must be ${PASSWORD_MIN}–${PASSWORD_MAX} characters`);
  return v;
}

/** PASSWORD's new password: the same rule as `password`. */
export function newPassword(body: Record<string, unknown>): string {
  const v = str(body, 'newPassword');
  const n = codePoints(v);
  if (n < PASSWORD_MIN || n > PASSWORD_MAX) bad(`field "newPassword" must be ${PASSWORD_MIN}–${PASSWORD_MAX} characters`);
  return v;
}

/** RESUME's session token: 43 base64url characters (32 random bytes), as LOGIN handed it out. */
export function sessionToken(body: Record<string, unknown>): string {
  const v = str(body, 'token');
  if (!/^[A-Za-z0-9_-]{43}$/.test(v)) bad('field "token" must be the 43-character token LOGIN returned');
  return v;
}

/** LOGOUT's optional `all`: true, false or absent (false). */
export function optionalFlag(body: Record<string, unknown>, field: string): boolean {
  const v = body[field];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') bad(`field "${field}" must be true or false`);
  return v;
}

export function text(body: Record<string, unknown>): string {
  const v = str(body, 'text');
  const n = codePoints(v);
  if (n < 1 || n > TEXT_MAX) bad(`field "text" must be 1–${TEXT_MAX} characters`);
  return v;
}

export function room(body: Record<string, unknown>): string {
  const v = str(body, 'room');
  if (!ROOM_RE.test(v)) bad('field "room" must match ^#[a-z0-9_-]{1,32}$');
  return v;
}

export const KEY_MAX = 64;

/** SEND's optional idempotency key: a string of 1–64 characters, or null when absent. */
export function idempotencyKey(body: Record<string, unknown>): string | null {
  if (body.key === undefined) return null;
  const v = str(body, 'key');
  const n = codePoints(v);
  if (n < 1 || n > KEY_MAX) bad(`field "key" must be 1–${KEY_MAX} characters`);
  return v;
}

export function optionalRoom(body: Record<string, unknown>): string | undefined {
  return body.room === undefined ? undefined : room(body);
}

/**
 * Any positive integer, however large (1e300 is one): JSON numbers are doubles, and above 2^53 a
 * double is still an integer, only not every integer has one. Callers bound it themselves.
 */
function optionalPositiveInt(body: Record<string, unknown>, field: string): number | undefined {
  const v = body[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) bad(`field "${field}" must be a positive integer`);
  return v;
}

export function historyQuery(body: Record<string, unknown>): { with: string; before?: number; limit: number } {
  const withUser = userName(body, 'with');
  const before = optionalPositiveInt(body, 'before');
  const limit = Math.min(optionalPositiveInt(body, 'limit') ?? HISTORY_DEFAULT, HISTORY_MAX);
  // Every msgId is below 2^53, so a larger `before` bounds nothing: the same as none (and the
  // stores never see a number their integer columns cannot hold).
  return { with: withUser, before: before !== undefined && before > Number.MAX_SAFE_INTEGER ? undefined : before, limit };
}
