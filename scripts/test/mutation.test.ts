// The mutation script's own pieces, without running Stryker (that takes minutes per stage).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { learnerFiles, startsWorkers, strykerConfig, vitestConfigSource, workerEntries } from '../lib/mutation-config.ts';
import {
  countMutants,
  failureReason,
  findExplanation,
  markUnmeasured,
  formatSurvivors,
  mergeStage,
  score,
  sliceSource,
  survivorsOf,
  type StageSummary,
  type StrykerReport,
} from '../lib/mutation-report.ts';
import { applyMutant, needsSecondOpinion } from '../lib/mutation-verify.ts';

function tempStage(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'wizz-mutation-'));
  fs.mkdirSync(path.join(root, '09-demo'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(root, '09-demo', name), text);
  return root;
}

describe('learnerFiles', () => {
  it('mutates the starters with a TODO, mapped to solutions/, and nothing given or graded', () => {
    const labs = tempStage({
      'server.ts': 'export function serve() { /* TODO: your loop */ }',
      'given.ts': 'export const given = 1;',
      'server.test.ts': '// TODO in a grader does not count',
      'README.md': 'TODO',
    });
    expect(learnerFiles('09-demo', labs)).toEqual(['solutions/09-demo/server.ts']);
  });
  it('finds the files of the real stages', () => {
    expect(learnerFiles('00-packets')).toEqual(['solutions/00-packets/frames.ts']);
    expect(learnerFiles('04-kqueue')).toEqual(['solutions/04-kqueue/poller-kqueue.ts', 'solutions/04-kqueue/server.ts']);
  });
});

describe('workerEntries', () => {
  it('finds the learner files that run only as a worker thread', () => {
    expect(workerEntries('07-db-actor', ['solutions/07-db-actor/actor.ts', 'solutions/07-db-actor/db-worker.ts'])).toEqual([
      'solutions/07-db-actor/db-worker.ts',
    ]);
    // stage 06 starts workers from given files; the learner's ring also runs in the test's thread
    expect(workerEntries('06-ring', ['solutions/06-ring/fan-in.ts', 'solutions/06-ring/ring.ts'])).toEqual([]);
    expect(workerEntries('03-epoll', ['solutions/03-epoll/server.ts'])).toEqual([]);
    expect([startsWorkers('06-ring'), startsWorkers('07-db-actor'), startsWorkers('03-epoll')]).toEqual([true, true, false]);
  });
});

describe('generated configs', () => {
  it('runs one stage’s graders against solutions/', () => {
    const src = vitestConfigSource('03-epoll');
    expect(src).toContain('include: ["labs/03-epoll/**/*.test.ts"]');
    expect(src).toContain('replacement: `${root}/solutions/$1`');
    expect(src).toContain("setupFiles: ['scripts/lib/mutation-setup.ts']");
    expect(src).toContain('"../../.."'); // reports/mutation/03-epoll → the project root
    expect(src).not.toMatch(/projects:/);
    expect(src).not.toContain('WIZZ_MUTATION_COVERAGE');
    expect(vitestConfigSource('07-db-actor', true)).toContain("WIZZ_MUTATION_COVERAGE: 'off'");
  });
  it('mutates only the given files, per-test coverage unless workers hide it', () => {
    const c = strykerConfig('03-epoll', ['solutions/03-epoll/server.ts'], false, { concurrency: 2 });
    expect(c.mutate).toEqual(['solutions/03-epoll/server.ts']);
    expect(c.coverageAnalysis).toBe('perTest');
    expect(c.concurrency).toBe(2);
    expect([c.incremental, c.force]).toEqual([true, true]); // writes the incremental file, reuses nothing
    expect(strykerConfig('03-epoll', [], false, { concurrency: 2, incremental: true }).force).toBe(false);
    expect(c.tempDirName).toBe('.stryker-tmp');
    expect(c.vitest).toEqual({ configFile: 'reports/mutation/03-epoll/vitest.config.ts', related: false });
    expect((c.jsonReporter as { fileName: string }).fileName).toBe('reports/mutation/03-epoll/mutation.json');
    expect(c.ignorePatterns).toContain('!/reports/mutation/03-epoll/vitest.config.ts');
    expect(strykerConfig('07-db-actor', ['solutions/07-db-actor/actor.ts'], true, { concurrency: 1 }).coverageAnalysis).toBe('off');
  });
});

const source = 'const a = 1;\nif (x > limit) grow();\nthrow new E("bad  frame");\n';
const report: StrykerReport = {
  files: {
    'solutions/09-demo/x.ts': {
      source,
      mutants: [
        { id: '1', mutatorName: 'EqualityOperator', replacement: 'x >= limit', status: 'Survived', location: { start: { line: 2, column: 5 }, end: { line: 2, column: 14 } } },
        { id: '2', mutatorName: 'StringLiteral', replacement: '""', status: 'NoCoverage', location: { start: { line: 3, column: 13 }, end: { line: 3, column: 25 } } },
        { id: '3', mutatorName: 'BooleanLiteral', replacement: 'false', status: 'Killed', location: { start: { line: 1, column: 11 }, end: { line: 1, column: 12 } } },
        { id: '4', mutatorName: 'BlockStatement', replacement: '{}', status: 'Timeout', location: { start: { line: 1, column: 1 }, end: { line: 1, column: 2 } } },
        { id: '5', mutatorName: 'X', replacement: 'y', status: 'CompileError', location: { start: { line: 1, column: 1 }, end: { line: 1, column: 2 } } },
      ],
    },
  },
};

describe('reading a Stryker report', () => {
  it('counts like Stryker: errors are not in the score', () => {
    const c = countMutants(report);
    expect(c).toEqual({ killed: 1, survived: 1, noCoverage: 1, timeout: 1, errors: 1, total: 5 });
    expect(score(c)).toBe(50);
  });
  it('slices the original code by 1-based line and column', () => {
    expect(sliceSource(source, report.files['solutions/09-demo/x.ts']!.mutants[0]!.location)).toBe('x > limit');
  });
  it('lists survivors and no-coverage mutants with their explanation, or null', () => {
    const explanations = [
      { file: 'solutions/09-demo/x.ts', mutator: 'EqualityOperator', original: 'x  >  limit', explanation: 'growth policy only' },
      { file: 'solutions/09-demo/x.ts', mutator: 'StringLiteral', original: '"bad frame"', replacement: '"other"', explanation: 'not this one' },
    ];
    const s = survivorsOf(report, explanations);
    expect(s.map((v) => [v.line, v.mutator, v.status, v.explanation])).toEqual([
      [2, 'EqualityOperator', 'Survived', 'growth policy only'],
      [3, 'StringLiteral', 'NoCoverage', null],
    ]);
    expect(s[1]!.original).toBe('"bad frame"'); // whitespace collapsed
    const text = formatSurvivors('09-demo', countMutants(report), 50, s);
    expect(text).toMatch(/solutions\/09-demo\/x\.ts:2:5 {2}EqualityOperator/);
    expect(text).toMatch(/UNEXPLAINED/);
  });
  it('matches an explanation on file, mutator and original, and the replacement when given', () => {
    const base = { file: 'f.ts', line: 1, column: 1, mutator: 'M', original: 'a + b', replacement: 'a - b', status: 'Survived' as const };
    expect(findExplanation([{ file: 'f.ts', mutator: 'M', original: 'a + b', explanation: 'e' }], base)).toBe('e');
    expect(findExplanation([{ file: 'g.ts', mutator: 'M', original: 'a + b', explanation: 'e' }], base)).toBeNull();
    expect(findExplanation([{ file: 'f.ts', mutator: 'N', original: 'a + b', explanation: 'e' }], base)).toBeNull();
    expect(findExplanation([{ file: 'f.ts', mutator: 'M', original: 'a + b', replacement: 'a * b', explanation: 'e' }], base)).toBeNull();
    const inLoop = [{ file: 'f.ts', mutator: 'M', original: 'a + b', context: 'while (', explanation: 'e' }];
    expect(findExplanation(inLoop, base, '  while (a + b) {')).toBe('e');
    expect(findExplanation(inLoop, base, '  if (a + b) {')).toBeNull();
  });
});

describe('second opinions', () => {
  it('re-grades survivors that are static or ran no test', () => {
    const m = report.files['solutions/09-demo/x.ts']!.mutants[0]!;
    expect(needsSecondOpinion({ ...m, static: true, testsCompleted: 12 })).toBe(true);
    expect(needsSecondOpinion({ ...m, static: false, testsCompleted: 0 })).toBe(true);
    expect(needsSecondOpinion({ ...m, static: false, testsCompleted: 3 })).toBe(false);
    expect(needsSecondOpinion({ ...m, status: 'Killed', static: true })).toBe(false);
    // no coverage: only where worker threads hide it
    expect(needsSecondOpinion({ ...m, status: 'NoCoverage' }, true)).toBe(true);
    expect(needsSecondOpinion({ ...m, status: 'NoCoverage' }, false)).toBe(false);
  });
  it('applies a mutant to the source', () => {
    const m = report.files['solutions/09-demo/x.ts']!.mutants[0]!;
    expect(applyMutant(source, m).split('\n')[1]).toBe('if (x >= limit) grow();');
  });
});

describe('a stage that cannot be measured', () => {
  it('says which grader failed the initial run', () => {
    const log = '\x1b[31m20:08:53 (9076) ERROR DryRunExecutor\x1b[39m One or more tests failed in the initial test run:\n\t05-pool: storm 50 clients\n\t\tTest timed out in 60000ms.\n';
    expect(failureReason(log)).toBe('the initial, unmutated run failed — "05-pool: storm 50 clients": Test timed out in 60000ms.');
  });
  it('is recorded instead of its old numbers, and cleared by the next measurement', () => {
    const s = (stage: string) => ({ stage, score: 90 }) as StageSummary;
    const data = markUnmeasured({ $comment: '', target: 85, stages: [s('05-pool'), s('06-ring')] }, '05-pool', 'why', 'd');
    expect(data.stages.map((x) => x.stage)).toEqual(['06-ring']);
    expect(data.unmeasured).toEqual([{ stage: '05-pool', date: 'd', reason: 'why' }]);
    expect(mergeStage(data, s('05-pool')).unmeasured).toEqual([]);
  });
});

describe('mergeStage', () => {
  it('replaces one stage and keeps the others in order', () => {
    const s = (stage: string, pct: number) => ({ stage, score: pct }) as StageSummary;
    const data = { $comment: '', target: 85, stages: [s('03-epoll', 70), s('00-packets', 90)] };
    expect(mergeStage(data, s('03-epoll', 88)).stages.map((x) => [x.stage, x.score])).toEqual([
      ['00-packets', 90],
      ['03-epoll', 88],
    ]);
  });
});
