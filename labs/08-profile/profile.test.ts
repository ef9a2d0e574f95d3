// Stage 08 graders: the measurement harness and the decision it drives. The harness must
// measure GC *time* over the *run's* wall time; the decision must follow the 10–15 % rule.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
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
    expect(verdict(at(0.1)), 'GC share exactly 10 %: not below 10 %, so borderline').toBe('borderline');
    expect(verdict(at(0.15)), 'GC share exactly 15 %: not above 15 %, so borderline').toBe('borderline');
  });

  it('decides right for any share, on both sides of each threshold and on them (fast-check)', () => {
    const share = fc.oneof(
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.double({ min: 0.08, max: 0.17, noNaN: true }), // dense around both thresholds
      fc.constantFrom(0, 0.1, 0.15, 1, 0.1 - 1e-9, 0.1 + 1e-9, 0.15 - 1e-9, 0.15 + 1e-9),
    );
    fc.assert(
      fc.property(share, fc.double({ min: 1, max: 100_000, noNaN: true }), (gcShare, wallMs) => {
        const expected = gcShare > 0.15 ? 'pool' : gcShare < 0.1 ? 'no-pool' : 'borderline';
        const report: GcReport = { wallMs, gcMs: gcShare * wallMs, gcCount: 7, gcShare };
        expect(verdict(report), `GC share ${(gcShare * 100).toFixed(4)} %: 'pool' above 15 %, 'no-pool' below 10 %, 'borderline' from 10 % to 15 % (hint 3)`).toBe(expected);
      }),
      { numRuns: 1000, seed: 8 },
    );
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

  it('measures an async workload until its promise settles, with the collections after each await', async () => {
    await cleanHeap();
    let started = 0;
    let finished = 0;
    const report = await measureGc(async () => {
      started = performance.now();
      for (let i = 0; i < 4; i++) {
        await new Promise((r) => setTimeout(r, 15));
        collectNow();
      }
      finished = performance.now();
    });
    const runMs = finished - started;
    expect(report.wallMs, `an async workload ran ${runMs.toFixed(1)} ms but wallMs says ${report.wallMs.toFixed(1)}: await the workload before noting the end — your report ${show(report)}`).toBeGreaterThanOrEqual(runMs * 0.95);
    expect(report.gcCount, `four collections, each after an await inside the workload — your report ${show(report)}`).toBeGreaterThanOrEqual(4);
    expect(report.gcMs, `their durations — your report ${show(report)}`).toBeGreaterThan(0);
  });

  it('counts only the run: not the collections that happen while it waits for late entries, not the wait', async () => {
    await cleanHeap();
    // The workload returns at once and leaves two quick (young-generation) collections behind, to
    // run just after it, well inside a harness's wait for late entries.
    // On a loaded machine the harness's wait may end before those collections' entries arrive, so
    // one try can miss a harness that keeps them: try several times, and every report must be clean.
    const minorGc = collectNow as unknown as (options: { type: 'minor' }) => void;
    for (let attempt = 0; attempt < 6; attempt++) {
      const after = await measureGc(() => {
        setImmediate(() => {
          minorGc({ type: 'minor' });
          minorGc({ type: 'minor' });
        });
        return 0;
      });
      // Two mistakes let them in: keeping entries past `end`, or taking `end` after the wait (then
      // the wait is inside [start, end]); the wall time of a workload that returns at once tells which.
      const why = after.wallMs >= 15
        ? `your wallMs is ${after.wallMs.toFixed(1)} ms for a workload that returns at once: \`end\` is taken after the wait for late entries, so the wait counts as the run and its collections fall inside [start, end]. Note \`end\` right after the workload returns, before waiting`
        : `they are not the run's. Keep the entries whose startTime is inside [start, end]`;
      expect(after.gcCount, `two collections ran after the workload had returned (while you waited for late entries): ${why} — your report ${show(after)} (hint 3)`).toBe(0);
      expect(after.gcMs, `no collection inside the run — your report ${show(after)}`).toBe(0);
    }
    // wallMs is the run, not the run plus the wait for late entries: an empty workload takes ~0 ms.
    const tiny: GcReport[] = [];
    for (let i = 0; i < 3; i++) tiny.push(await measureGc(() => 0));
    const best = Math.min(...tiny.map((r) => r.wallMs));
    expect(best, `an empty workload measured ${tiny.map((r) => r.wallMs.toFixed(1)).join(', ')} ms: note the end right after the workload, before waiting for late entries`).toBeLessThan(15);
    expect(tiny.every((r) => r.gcShare >= 0 && r.gcShare <= 1), `a share is within [0, 1] — ${tiny.map(show).join('; ')}`).toBe(true);
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

// What a call keeps after it returns (issue 20, class 3): an observer left observing collects
// every later collection for the rest of the process, one more per measureGc call.
describe('08-profile: what measureGc leaves behind', () => {
  it('disconnects every PerformanceObserver it started, and an instant workload gives a share in [0, 1]', async () => {
    const proto = PerformanceObserver.prototype;
    const observe = proto.observe;
    const disconnect = proto.disconnect;
    const live = new Set<PerformanceObserver>();
    proto.observe = function (this: PerformanceObserver, ...args: Parameters<typeof observe>) {
      live.add(this);
      return observe.apply(this, args);
    };
    proto.disconnect = function (this: PerformanceObserver) {
      live.delete(this);
      return disconnect.apply(this);
    };
    let report: GcReport;
    try {
      for (let i = 0; i < 3; i++) await measureGc(() => {});
      report = await measureGc(() => {});
    } finally {
      proto.observe = observe;
      proto.disconnect = disconnect;
    }
    expect(
      live.size,
      `after 4 measureGc calls, ${live.size} PerformanceObserver(s) it started were still observing: each keeps receiving (and holding) every later collection's entry, ` +
        'for the life of the process. Where to look: measureGc — disconnect the observer before returning (after takeRecords). Replay: npm test -- 08',
    ).toBe(0);
    expect(
      Number.isFinite(report.gcShare) && report.gcShare >= 0 && report.gcShare <= 1,
      `a workload that returns at once gave ${show(report)}: gcShare must stay a number in [0, 1] even when wallMs is 0 or tiny. Replay: npm test -- 08`,
    ).toBe(true);
  });
});
