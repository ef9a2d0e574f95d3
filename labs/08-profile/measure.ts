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
  // TODO:
  //  1. start a PerformanceObserver on entryTypes ['gc'] that collects the entries it is given;
  //  2. note performance.now(), run (and await) the workload, note performance.now() again;
  //  3. GC entries arrive asynchronously: wait a few ms, then add observer.takeRecords() and
  //     disconnect;
  //  4. keep the entries whose startTime falls inside the run; gcMs is the sum of their
  //     *durations*, gcCount how many there are, wallMs the run's duration, gcShare = gcMs / wallMs.
  void PerformanceObserver, performance, workload;
  const entries: PerformanceEntry[] = [];
  void entries;
  throw new Error('TODO: measureGc');
}
