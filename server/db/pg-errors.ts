// What a failure from `pg` means for the store: whose fault it is (one request's statement, or the
// connection / the server), whether a fresh connection may succeed at once, and the protocol error
// code the request gets.
import pg from 'pg';
import { LinkError } from '../router/link.ts';

/** The SQLSTATE of an error the server reported, or null (a socket error, a timeout in the client). */
export function sqlState(err: unknown): string | null {
  return err instanceof pg.DatabaseError && typeof err.code === 'string' ? err.code : null;
}

/**
 * The error belongs to the statement of one request (bad data, a constraint, a deadlock): the
 * other requests of its batch may still succeed. Errors of the connection or of the server
 * (classes 08 connection, 53 resources, 57 operator intervention incl. timeouts, 58 system, XX
 * internal) and errors without SQLSTATE fail the whole batch.
 */
export function isStatementError(err: unknown): boolean {
  const code = sqlState(err);
  return code !== null && !['08', '53', '57', '58', 'XX'].includes(code.slice(0, 2));
}

/**
 * A pooled connection that died while idle (the server restarted since it was last used): the
 * request never reached the server, so it may be retried once on a fresh connection. Not a
 * timeout: retrying a hung server would only double the wait.
 */
export function isStaleConnection(err: unknown): boolean {
  const code = sqlState(err);
  if (code !== null) return code === '57P01' || code === '57P02';
  const errno = (err as { code?: unknown }).code;
  const message = (err as Error).message ?? '';
  return errno === 'ECONNRESET' || errno === 'EPIPE' || /Connection terminated unexpectedly|not queryable/i.test(message);
}

export function toLinkError(err: unknown): LinkError {
  if (err instanceof LinkError) return err;
  if (sqlState(err) === '53100') return new LinkError('storage_full', 'the server is out of storage');
  return new LinkError('unavailable', `database error: ${(err as Error).message ?? String(err)}`);
}
