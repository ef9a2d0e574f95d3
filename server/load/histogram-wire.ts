// Moving a Histogram between processes: the bench's load processes each keep one, and the bench
// adds them up before taking percentiles (percentiles of parts cannot be averaged).
// Histogram's buckets are private to keep its own API small; element access is TypeScript's
// deliberate way in for exactly this kind of friend code.
import { Histogram } from './histogram.ts';

export interface HistogramWire {
  counts: number[];
  count: number;
  max: number;
}

export function toWire(h: Histogram): HistogramWire {
  return { counts: Array.from(h['counts']), count: h.count, max: h.max };
}

/** One Histogram holding every sample of the parts. */
export function mergeWire(parts: HistogramWire[]): Histogram {
  const sum = new Histogram();
  const counts = sum['counts'];
  for (const p of parts) {
    p.counts.forEach((n, i) => (counts[i]! += n));
    sum.count += p.count;
    sum.max = Math.max(sum.max, p.max);
  }
  return sum;
}
