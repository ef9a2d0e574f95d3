// What a result keeps after it returns. A grader that compares each result at once never sees a
// returned view that the next call overwrites, nor a decoder that keeps every byte it ever saw;
// these helpers hold results side by side and measure what stays allocated.
import { memoryUsage } from 'node:process';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | null = null;

/** A full garbage collection, without starting node with --expose-gc. */
export function collectGarbage(): void {
  if (collect === null) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
  collect();
}

/**
 * Runs `build` and reports how many bytes of ArrayBuffer memory are still allocated afterwards
 * while its result is alive (measured after full collections, so garbage is not counted). The
 * result is returned too, which keeps it alive until the measurement is done.
 */
export function arrayBuffersHeldBy<T>(build: () => T): { value: T; bytes: number } {
  collectGarbage();
  const before = memoryUsage().arrayBuffers;
  const value = build();
  collectGarbage();
  const bytes = memoryUsage().arrayBuffers - before;
  return { value, bytes };
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
