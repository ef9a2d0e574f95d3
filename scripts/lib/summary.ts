// How check's sub-steps (honesty, browser test) hand their counts back: a small JSON file whose
// path check passes as --summary. Missing file = the step crashed.
import fs from 'node:fs';

export interface Summary {
  passed: number;
  failed: number;
}

export function writeSummary(file: string | undefined, s: Summary): void {
  if (file) fs.writeFileSync(file, JSON.stringify(s));
}

export function readSummary(file: string): Summary | null {
  try {
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as Summary;
    return Number.isInteger(s.passed) && Number.isInteger(s.failed) ? s : null;
  } catch {
    return null;
  }
}

/** Runs tasks with at most `limit` in flight; results in input order. */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
