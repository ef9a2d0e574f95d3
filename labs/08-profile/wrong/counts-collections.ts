// mistake: adds up the number of collections instead of their durations
// replaces: measure.ts
// The measurement harness: run a workload and report how much of its wall time went to garbage
// collection, from the 'gc' performance entries Node emits for every collection.
import { PerformanceObserver, performance, type PerformanceEntry } from 'node:perf_hooks';

export interface GcReport {
  /** Wall-clock duration of the run, ms. */
  wallMs: number;
  /** Sum of the durations of the collections that happened during the run, ms. */
  gcMs: number;
  /** How many collections that was. */
  gcCount: number;
  /** gcMs / wallMs: the share of the run spent collecting garbage, 0..1. */
  gcShare: number;
}

/** Runs `workload` once and measures the GC time that happened during it. */
export async function measureGc(workload: () => unknown): Promise<GcReport> {
  const entries: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => entries.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  const start = performance.now();
  await workload();
  const end = performance.now();
  // GC entries are delivered asynchronously: give the last ones a turn of the loop to arrive.
  await new Promise((resolve) => setTimeout(resolve, 20));
  entries.push(...observer.takeRecords());
  observer.disconnect();
  // Only collections that began during the run count (not ones from before or from the wait).
  const during = entries.filter((e) => e.startTime >= start && e.startTime <= end);
  const gcMs = during.reduce((sum) => sum + 1, 0); // one per collection
  const wallMs = end - start;
  return { wallMs, gcMs, gcCount: during.length, gcShare: wallMs > 0 ? Math.min(1, gcMs / wallMs) : 0 };
}
