// Stage 08 graders: the measurement harness and the decision it drives. The harness must
// measure GC *time* over the *run's* wall time; the decision must follow the 10–15 % rule.
import { describe, expect, it } from 'vitest';
import v8 from 'node:v8';
import vm from 'node:vm';
import { PerformanceObserver, performance, type PerformanceEntry } from 'node:perf_hooks';
import { measureGc, type GcReport } from '#stage/08-profile/measure.ts';
import { verdict } from '#stage/08-profile/decide.ts';
import { allocating, preallocated } from '#stage/08-profile/workloads.ts';

// A full collection on demand, so each measurement starts from a clean heap (the grader's
// fairness, not something the harness needs).
v8.setFlagsFromString('--expose-gc');
const collectNow = vm.runInNewContext('gc') as () => void;
async function cleanHeap(): Promise<void> {
  collectNow();
  await new Promise((r) => setTimeout(r, 50));
}

const HEAVY_MESSAGES = 40_000;
const LIGHT_MESSAGES = 300_000;

/** Measures with the learner's harness while an independent observer watches the same run. */
async function measureAlongside(run: () => unknown) {
  const seen: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => seen.push(...list.getEntries()));
  observer.observe({ entryTypes: ['gc'] });
  let inner = { start: 0, end: 0 };
  const outerStart = performance.now();
  const report = await measureGc(() => {
    inner.start = performance.now();
    const result = run();
    inner.end = performance.now();
    return result;
  });
  const outerEnd = performance.now();
  await new Promise((r) => setTimeout(r, 20));
  seen.push(...observer.takeRecords());
  observer.disconnect();
  const during = seen.filter((e) => e.startTime >= inner.start && e.startTime <= inner.end);
  const ownGcMs = during.reduce((s, e) => s + e.duration, 0);
  return { report, inner, outer: { start: outerStart, end: outerEnd }, ownGcMs, ownCount: during.length };
}

const show = (r: GcReport) =>
  `{ wallMs: ${r.wallMs.toFixed(1)}, gcMs: ${r.gcMs.toFixed(1)}, gcCount: ${r.gcCount}, gcShare: ${r.gcShare.toFixed(3)} }`;

describe('08-profile: the decision rule', () => {
  const at = (gcShare: number): GcReport => ({ wallMs: 1000, gcMs: gcShare * 1000, gcCount: 10, gcShare });
  it('pools above 15 %, does not pool below 10 %, and calls the middle borderline', () => {
    expect(verdict(at(0)), 'GC share 0 %').toBe('no-pool');
    expect(verdict(at(0.05)), 'GC share 5 %').toBe('no-pool');
    expect(verdict(at(0.12)), 'GC share 12 %: between the thresholds').toBe('borderline');
    expect(verdict(at(0.2)), 'GC share 20 %').toBe('pool');
    expect(verdict(at(0.6)), 'GC share 60 %').toBe('pool');
  });
});

describe('08-profile: the measurement harness', () => {
  it(`measures an allocating workload (${HEAVY_MESSAGES.toLocaleString('en-US')} messages): GC time, over the run's wall time, agreeing with an independent observer`, async () => {
    await cleanHeap();
    const { report, inner, outer, ownGcMs, ownCount } = await measureAlongside(() => allocating().run(HEAVY_MESSAGES));
    const runMs = inner.end - inner.start;
    const what = `your report ${show(report)}; the grader saw ${ownCount} collections taking ${ownGcMs.toFixed(1)} ms in a run of ${runMs.toFixed(1)} ms`;
    expect(report.wallMs, `wallMs must be the run's wall time — ${what}`).toBeGreaterThanOrEqual(runMs * 0.95);
    expect(report.wallMs, `wallMs must be the run's wall time, not the process's — ${what}`).toBeLessThanOrEqual(outer.end - outer.start + 1);
    expect(report.gcCount, `gcCount — ${what}`).toBeGreaterThan(0);
    expect(report.gcMs, `gcMs is the sum of the gc entries' durations (milliseconds, not a count) — ${what} (hint 2)`).toBeGreaterThan(ownGcMs * 0.8 - 1);
    expect(report.gcMs, `gcMs is the sum of the gc entries' durations during the run — ${what} (hint 2)`).toBeLessThan(ownGcMs * 1.25 + 1);
    expect(report.gcShare, `gcShare must be gcMs / wallMs — ${what}`).toBeCloseTo(report.gcMs / report.wallMs, 2);
    expect(report.gcShare, `a share is between 0 and 1 — ${what}`).toBeLessThanOrEqual(1);
    expect(verdict(report), `this workload allocates per message and keeps a history: GC takes ${(100 * ownGcMs / runMs).toFixed(0)} % of the run, so a pool pays off — ${what}`).toBe('pool');
  });

  it(`measures a preallocated workload (${LIGHT_MESSAGES.toLocaleString('en-US')} messages): almost no GC, so no pool`, async () => {
    await cleanHeap();
    const { report, inner, ownGcMs } = await measureAlongside(() => preallocated().run(LIGHT_MESSAGES));
    const runMs = inner.end - inner.start;
    const what = `your report ${show(report)}; the grader saw ${ownGcMs.toFixed(1)} ms of GC in ${runMs.toFixed(1)} ms`;
    expect(report.gcShare, `share for a workload that allocates nothing per message — ${what}`).toBeGreaterThanOrEqual(0);
    expect(report.gcShare, `share for a workload that allocates nothing per message — ${what}`).toBeLessThan(0.1);
    expect(report.wallMs, `wallMs must be the run's wall time — ${what}`).toBeGreaterThanOrEqual(runMs * 0.95);
    expect(verdict(report), `nothing to gain from a pool here — ${what}`).toBe('no-pool');
  });

  it('counts collections that happen inside the workload, however short it is', async () => {
    await cleanHeap();
    const { report } = await measureAlongside(() => {
      collectNow();
      collectNow();
    });
    expect(report.gcCount, `two forced collections inside the workload — your report ${show(report)}`).toBeGreaterThanOrEqual(2);
    expect(report.gcMs, `their durations — your report ${show(report)}`).toBeGreaterThan(0);
  });
});
