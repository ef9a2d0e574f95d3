// The operator's side: the open-file limit read and reported at start, the restart backoff of
// crashed reactors, and the soak's verdict (it must fail on growth, on errors, on leftovers).
import { describe, expect, it } from 'vitest';
import { describeFileLimit, parseProcLimits, raiseFileLimit } from '../limits/fd-limit.ts';
import { RestartBackoff } from '../primary/backoff.ts';
import { judge, type SoakSample } from '../load/soak-verdict.ts';

describe('open files', () => {
  it('reads /proc/self/limits and warns with what to raise when the limit is below the connections', () => {
    const text = 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 4096                 files\n';
    expect(parseProcLimits(text)).toEqual({ soft: 1024, hard: 4096 });
    expect(describeFileLimit({ soft: 4096, hard: 4096, how: 'at the hard limit' }, 10_000)).toMatch(/WARNING: 10000 connections need 10064; raise the hard limit/);
    expect(describeFileLimit({ soft: 65_536, hard: 65_536, how: 'at the hard limit' }, 10_000)).not.toMatch(/WARNING/);
    const here = raiseFileLimit();
    if (here.how !== 'unknown') expect(here.soft).toBe(here.hard); // Node (or prlimit) raised it
  });
});

describe('restart backoff', () => {
  it('restarts at once after a crash of a reactor that ran a while, backs off while replacements die young', () => {
    const b = new RestartBackoff(10_000, 250, 2_000);
    expect(b.next(60_000)).toBe(0);
    expect([b.next(100), b.next(100), b.next(100), b.next(100), b.next(100)]).toEqual([250, 500, 1_000, 2_000, 2_000]);
    expect(b.next(20_000)).toBe(0);
  });
});

describe('the soak verdict', () => {
  const flat = (t: number, extra: Partial<SoakSample> = {}): SoakSample => ({ t, rssBytes: 300e6, heapUsedBytes: 30e6, poolLiveBytes: 4096, loopDelayP99Ms: 10, connections: 2000, ...extra });
  const idle: SoakSample = { ...flat(120), poolLiveBytes: 0, connections: 0 };
  const series = (f: (t: number) => Partial<SoakSample>) => Array.from({ length: 120 }, (_, t) => flat(t, f(t)));

  it('passes a flat run with nothing left behind', () => {
    expect(judge(series(() => ({})), [idle], {}, 120)).toMatchObject({ ok: true, failures: [] });
  });

  it('fails on memory growth, delay growth, errors, and what stays held after the clients left', () => {
    expect(judge(series((t) => ({ rssBytes: 300e6 + t * 2e6 })), [idle], {}, 120).failures.join()).toMatch(/RSS grew/);
    expect(judge(series((t) => ({ heapUsedBytes: 30e6 + t * 1e6 })), [idle], {}, 120).failures.join()).toMatch(/heap grew/);
    expect(judge(series((t) => ({ loopDelayP99Ms: t < 80 ? 10 : 200 })), [idle], {}, 120).failures.join()).toMatch(/event-loop delay/);
    expect(judge(series(() => ({})), [idle], { timeout: 3 }, 120).failures).toEqual(['3 × timeout']);
    expect(judge(series(() => ({})), [{ ...idle, poolLiveBytes: 512 }], {}, 120).failures.join()).toMatch(/pool bytes still held/);
    expect(judge(series(() => ({})), [{ ...idle, connections: 1 }], {}, 120).failures.join()).toMatch(/connections still open/);
  });
});
