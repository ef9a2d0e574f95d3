import { describe, expect, it } from 'vitest';
import { buildRows, currentStage, renderScoreboard, statusOf } from '../lib/scoreboard.ts';
import { renderReport } from '../lib/report.ts';
import { emptyStage, type StageResult } from '../lib/results.ts';
import type { Stage } from '../lib/stages.ts';

process.env.NO_COLOR = '1';

const stages: Stage[] = [
  { id: '00-packets', title: 'Packets', read: 'docs/labs/00-packets.md', hints: ['a', 'b', 'c'] },
  { id: '01-select', title: 'A select() loop', read: 'docs/labs/01-select.md', hints: ['a', 'b', 'c'] },
  { id: '02-poll', title: 'Poll', read: 'docs/labs/02-poll.md', hints: ['a', 'b', 'c'] },
];
const res = (id: string, passed: number, failed: number): StageResult => ({
  ...emptyStage(id),
  passed,
  failed,
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
});
