// What travels between the reactor and the database actor.
import type { Op } from './store.ts';

export interface Request { id: number; op: Op; args: unknown }

export type Reply =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: { name: string; message: string; code?: string } };

/** Turns a thrown value into something postMessage can carry and the caller can rethrow. */
export function describeError(err: unknown): { name: string; message: string; code?: string } {
  const e = err as { name?: string; message?: string; code?: unknown };
  return { name: e?.name ?? 'Error', message: e?.message ?? String(err), ...(typeof e?.code === 'string' ? { code: e.code } : {}) };
}
