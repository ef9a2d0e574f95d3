// Request/response correlation for a message link: each request gets an id, its answer settles the
// matching promise. Used by both request links: a reactor's link to the primary (router/link.ts)
// and the primary's link to the database actor thread (db/actor-client.ts).

interface Waiter {
  resolve(value: unknown): void;
  reject(err: Error): void;
  /** Runs synchronously when the answer arrives, before anything that arrived after it is handled. */
  onValue?: (value: unknown) => void;
}

export class Correlator {
  private nextId = 1;
  private readonly waiting = new Map<number, Waiter>();

  /** Requests sent and not yet answered. */
  get size(): number {
    return this.waiting.size;
  }

  /**
   * A new id and the promise its answer settles. `onValue` runs inside resolve(), in the order the
   * answers arrive — a promise's continuation would run only after the whole incoming batch.
   */
  open<T>(onValue?: (value: T) => void): { id: number; promise: Promise<T> } {
    const id = this.nextId++;
    const promise = new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, onValue: onValue as ((v: unknown) => void) | undefined });
    });
    return { id, promise };
  }

  /** Settles request `id` with `value`; false for an unknown (already settled) id. */
  resolve(id: number, value: unknown): boolean {
    const w = this.take(id);
    if (!w) return false;
    try {
      w.onValue?.(value);
    } catch (err) {
      w.reject(err as Error);
      return true;
    }
    w.resolve(value);
    return true;
  }

  reject(id: number, err: Error): boolean {
    const w = this.take(id);
    if (!w) return false;
    w.reject(err);
    return true;
  }

  /** Nothing pending will be answered (the other side is gone): fail every request with `err()`. */
  rejectAll(err: () => Error): void {
    const all = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of all) w.reject(err());
  }

  private take(id: number): Waiter | undefined {
    const w = this.waiting.get(id);
    if (w) this.waiting.delete(id);
    return w;
  }
}
