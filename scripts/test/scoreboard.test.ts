import { describe, expect, it } from 'vitest';
import { buildRows, currentStage, renderScoreboard, score, statusOf } from '../lib/scoreboard.ts';
import { renderReport } from '../lib/report.ts';
import { emptyStage, type StageResult } from '../lib/results.ts';
import type { Stage } from '../lib/stages.ts';

process.env.NO_COLOR = '1';

const stages: Stage[] = [
  { id: '00-packets', title: 'Packets', read: 'docs/labs/00-packets.md', imports: [], hints: ['a', 'b', 'c'] },
  { id: '01-select', title: 'A select() loop', read: 'docs/labs/01-select.md', imports: [], hints: ['a', 'b', 'c'] },
  { id: '02-poll', title: 'Poll', read: 'docs/labs/02-poll.md', imports: [], hints: ['a', 'b', 'c'] },
];
const res = (id: string, passed: number, failed: number): StageResult => ({
  ...emptyStage(id),
  passed,
  failed,
  passing: Array.from({ length: passed }, (_, i) => `labs/${id}/x.test.ts > pass ${i}`),
  failures: Array.from({ length: failed }, (_, i) => ({
    file: `labs/${id}/x.test.ts`,
    name: `check ${i}`,
    state: 'failed' as const,
    errors: [{ name: 'AssertionError', message: `expected ${i} to be ${i + 1}`, expected: `${i + 1}`, actual: `${i}`, frames: [] }],
    durationMs: 0,
  })),
});

describe('statusOf', () => {
  it('distinguishes done, in progress, not started, missing and not run', () => {
    expect(statusOf(true, res('a', 3, 0))).toBe('done');
    expect(statusOf(true, res('a', 1, 2))).toBe('in-progress');
    expect(statusOf(true, res('a', 0, 2))).toBe('not-started');
    expect(statusOf(true, res('a', 0, 0))).toBe('no-graders');
    expect(statusOf(false, undefined)).toBe('missing');
    expect(statusOf(true, undefined)).toBe('not-run');
    expect(statusOf(true, undefined, true)).toBe('no-graders');
  });
});

describe('the scoreboard tells the truth', () => {
  const untouched = { edited: false, starterPasses: new Set(['labs/04/x.test.ts > pass 0', 'labs/04/x.test.ts > pass 1']) };
  const edited = { ...untouched, edited: true };
  it('"not started" means the starter is untouched, even when some checks pass on it', () => {
    expect(statusOf(true, res('04', 2, 5), true, untouched)).toBe('not-started');
  });
  it('an edited stage is in progress even when every check fails (one bug that makes it spin)', () => {
    expect(statusOf(true, res('01', 0, 11), true, { edited: true, starterPasses: new Set() })).toBe('in-progress');
  });
  it('checks that pass on the untouched starter are never credited', () => {
    expect(score(res('04', 2, 5), untouched)).toEqual({ passed: 0, total: 5 });
    expect(score(res('04', 3, 4), edited)).toEqual({ passed: 1, total: 5 });
    const free = { edited: false, starterPasses: new Set(['labs/00-packets/x.test.ts > pass 0', 'labs/00-packets/x.test.ts > pass 1']) };
    const rows = buildRows(stages, new Set(['00-packets']), new Map([['00-packets', res('00-packets', 2, 5)]]), null, new Map([['00-packets', free]]));
    expect(renderScoreboard(rows, undefined).join('\n')).toMatch(/00-packets\s+Packets\s+0\/5\s+✗ not started/);
  });
  it('a free check the learner broke is one more to earn', () => {
    const r = { ...res('04', 1, 6), passing: ['labs/04/x.test.ts > pass 0'] }; // "pass 1" fails now
    expect(score(r, edited)).toEqual({ passed: 0, total: 6 });
  });
  it('without git (edited unknown) the credited count decides', () => {
    expect(statusOf(true, res('04', 2, 5), true, { edited: null, starterPasses: untouched.starterPasses })).toBe('not-started');
    expect(statusOf(true, res('04', 3, 4), true, { edited: null, starterPasses: null })).toBe('in-progress');
  });
});

describe('scoreboard', () => {
  const results = new Map([
    ['00-packets', res('00-packets', 4, 0)],
    ['01-select', res('01-select', 1, 2)],
  ]);
  const present = new Set(['00-packets', '01-select', '09-extra']);
  const rows = buildRows(stages, present, results, new Set(['00-packets', '01-select']));

  it('lists manifest stages in order, then unlisted folders', () => {
    expect(rows.map((r) => [r.id, r.status])).toEqual([
      ['00-packets', 'done'],
      ['01-select', 'in-progress'],
      ['02-poll', 'missing'],
      ['09-extra', 'not-run'],
    ]);
  });
  it('a stage graded in this run with no result has no graders yet', () => {
    expect(buildRows(stages, present, results, null).at(-1)!.status).toBe('no-graders');
  });
  it('the current stage is the first unfinished one', () => {
    expect(currentStage(rows)?.id).toBe('01-select');
  });
  it('renders passed/total and marks the current stage', () => {
    const text = renderScoreboard(rows, '01-select').join('\n');
    expect(text).toMatch(/00-packets\s+Packets\s+4\/4\s+✓ done/);
    expect(text).toMatch(/01-select\s+A select\(\) loop\s+1\/3\s+✗ in progress\s+← you are here/);
    expect(text).toMatch(/02-poll\s+Poll\s+—\s+· not in this workbook yet/);
  });
});

describe('renderReport', () => {
  it('details the current stage, summarises later ones, and says what to do next', () => {
    const results = new Map([
      ['00-packets', res('00-packets', 0, 2)],
      ['01-select', res('01-select', 0, 3)],
    ]);
    const { lines, failing } = renderReport({ stages, present: new Set(['00-packets', '01-select']), results, unhandled: [], targetDir: '/nowhere', hintsShown: { '00-packets': 1 } });
    const text = lines.join('\n');
    expect(failing).toBe(true);
    expect(text).toContain('✗ [00-packets] check 0');
    expect(text).toMatch(/expected:\s+1\n\s+got:\s+0/);
    expect(text).toContain('✗ [01-select] 3 failing — first: check 0');
    expect(text).not.toContain('[01-select] check 1');
    expect(text.indexOf('[00-packets] check 0')).toBeLessThan(text.indexOf('stage '));
    expect(text).toContain('npm run hint -- 00` reveals hint 2 of 3');
    expect(text).not.toMatch(/\n\s+at .*node_modules/);
  });
  it('is not failing when every graded stage passes', () => {
    const { failing, lines } = renderReport({ stages, present: new Set(['00-packets']), results: new Map([['00-packets', res('00-packets', 2, 0)]]), unhandled: [], targetDir: '/x', hintsShown: {} });
    expect(failing).toBe(false);
    expect(lines.join('\n')).toContain('Every graded stage passes');
  });
  it('after a passing `npm test -- 00`, points at stage 01', () => {
    const { lines } = renderReport({
      stages,
      present: new Set(['00-packets', '01-select']),
      results: new Map([['00-packets', res('00-packets', 2, 0)]]),
      unhandled: [],
      targetDir: '/x',
      hintsShown: {},
      graded: new Set(['00-packets']),
    });
    expect(lines.join('\n')).toMatch(/Next:.*stage 01-select.*npm test -- 01/);
  });
  it('lists failures correctness first, then robustness, then cost, whatever order they arrived in', () => {
    const fail = (file: string, name: string) => ({ file, name, state: 'failed' as const, errors: [{ name: 'Error', message: name, frames: [] }], durationMs: 0 });
    const r: StageResult = {
      ...emptyStage('01-select'),
      failed: 3,
      failures: [
        fail('labs/01-select/cost.test.ts', '01-select: cost with idle clients > one wake-up per message'),
        fail('labs/01-select/server.test.ts', '01-select: survives hostile clients > a reset peer'),
        fail('labs/01-select/server.test.ts', '01-select: serves the chat > broadcasts SAY'),
      ],
    };
    const text = renderReport({ stages, present: new Set(['01-select']), results: new Map([['01-select', r]]), unhandled: [], targetDir: '/x', hintsShown: {} }).lines.join('\n');
    const at = (s: string) => text.indexOf(s);
    expect(at('broadcasts SAY')).toBeGreaterThan(0);
    expect(at('broadcasts SAY')).toBeLessThan(at('a reset peer'));
    expect(at('a reset peer')).toBeLessThan(at('one wake-up per message'));
  });
  it('"N of M checks failing" counts what the scoreboard counts: a check that passes as shipped is in neither', () => {
    // 19 checks: 14 pass (1 of them passes on the untouched starter, so it is not earned), 5 fail.
    const r = res('00-packets', 14, 5);
    const credit = new Map([['00-packets', { edited: true, starterPasses: new Set([r.passing[0]!]) }]]);
    const text = renderReport({ stages, present: new Set(['00-packets']), results: new Map([['00-packets', r]]), unhandled: [], targetDir: '/x', hintsShown: {}, credit }).lines.join('\n');
    expect(text).toContain('5 of 18 checks failing');
    expect(text).toMatch(/00-packets .* 13\/18 /);
  });
  it('watch, after a save that makes the stage pass: the pass first, the next stage as one line', () => {
    const results = new Map([
      ['00-packets', res('00-packets', 4, 0)],
      ['01-select', res('01-select', 0, 12)],
    ]);
    const text = renderReport({ stages, present: new Set(['00-packets', '01-select']), results, unhandled: [], targetDir: '/x', hintsShown: {}, focus: '00-packets' }).lines.join('\n');
    expect(text.trimStart()).toMatch(/^✓ Stage 00-packets — Packets: passes, all 4 checks\./);
    expect(text).toContain('✗ [01-select] 12 failing');
    expect(text, "the next stage's placeholder failures are not listed in full").not.toContain('[01-select] check 0');
  });
});
