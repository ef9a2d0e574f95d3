import { describe, expect, it } from 'vitest';
import { abortedRecords, groupByStage, type TestRecord } from '../lib/results.ts';
import { variantVerdict } from '../lib/verdict.ts';
import { classify, failureKey, learnerFrame } from '../lib/explain.ts';

const t = (file: string, state: TestRecord['state'], message = 'boom', name = 'x'): TestRecord => ({
  file,
  name,
  state,
  errors: state === 'failed' ? [{ name: 'AssertionError', message, frames: [] }] : [],
  durationMs: 1,
});

describe('groupByStage', () => {
  it('counts per stage and keeps failures in order, ignoring tests outside stages', () => {
    const g = groupByStage([
      t('labs/00-packets/a.test.ts', 'passed'),
      t('labs/00-packets/a.test.ts', 'failed', 'one'),
      t('labs/03-epoll/b.test.ts', 'failed', 'two'),
      t('labs/03-epoll/b.test.ts', 'skipped'),
      t('labs/kernel/k.test.ts', 'failed'),
    ]);
    expect([...g.keys()]).toEqual(['00-packets', '03-epoll']);
    expect(g.get('00-packets')).toMatchObject({ passed: 1, failed: 1, skipped: 0 });
    expect(g.get('03-epoll')).toMatchObject({ passed: 0, failed: 1, skipped: 1 });
    expect(g.get('03-epoll')!.failures[0]!.errors[0]!.message).toBe('two');
  });
  it('an aborted run counts each file still running as a failure', () => {
    const recs = abortedRecords({ tests: [], unhandled: [], aborted: { reason: 'timeout', detail: 'slow', runningFiles: ['labs/03-epoll/b.test.ts'] } });
    expect(groupByStage(recs).get('03-epoll')).toMatchObject({ failed: 1 });
  });
});

describe('classify', () => {
  const e = (name: string, message: string) => ({ name, message, frames: [] });
  it('recognises the usual crash causes', () => {
    expect(classify(e('Error', 'TODO: splitFrames() is not implemented yet'))).toBe('todo');
    expect(classify(e('Error', 'Test timed out in 5000ms.'))).toBe('timeout');
    expect(classify(e('Error', 'Failed to load url #stage/03-epoll/x.ts (resolved id: …)'))).toBe('import');
    expect(classify(e('SyntaxError', "The requested module './a.ts' does not provide an export named 'b'"))).toBe('import');
    expect(classify(e('TypeError', 'poller.wait is not a function'))).toBe('type');
    expect(classify(e('WouldBlockError', 'this call would freeze your event loop'))).toBe('would-block');
    expect(classify(e('AssertionError', 'expected 1 to be 2'))).toBe('assertion');
  });
});

describe('learnerFrame / failureKey', () => {
  const err = {
    name: 'Error',
    message: 'TODO',
    frames: [
      { file: '/p/node_modules/vitest/x.js', line: 1, column: 1 },
      { file: '/p/labs/kernel/epoll.ts', line: 9, column: 1 },
      { file: '/p/labs/03-epoll/server.ts', line: 42, column: 7 },
      { file: '/p/labs/03-epoll/server.test.ts', line: 5, column: 1 },
    ],
  };
  it("picks the first frame in the learner's own file, skipping the kernel and graders", () => {
    expect(learnerFrame(err, '/p/labs')).toEqual({ file: '/p/labs/03-epoll/server.ts', line: 42 });
    expect(learnerFrame(err, '/p/solutions')).toBeNull();
  });
  it('two failures at the same line with the same message share a key', () => {
    const a: TestRecord = { file: 'labs/03-epoll/server.test.ts', name: 'a', state: 'failed', errors: [err], durationMs: 0 };
    expect(failureKey(a, '/p/labs')).toBe(failureKey({ ...a, name: 'b' }, '/p/labs'));
  });
});

describe('variantVerdict', () => {
  const fail = (message: string, name = 'AssertionError') => ({ ...t('labs/03-epoll/b.test.ts', 'failed'), errors: [{ name, message, frames: [] }] });
  it('an assertion failure is caught; only-timeouts and crashes are reported distinctly', () => {
    expect(variantVerdict({ tests: [t('labs/03-epoll/b.test.ts', 'passed'), fail('expected 1 to be 2')], unhandled: [] })).toBe('caught');
    expect(variantVerdict({ tests: [fail('Test timed out in 30000ms.', 'Error')], unhandled: [] })).toBe('failed by timeout');
    expect(variantVerdict({ tests: [], unhandled: [], aborted: { reason: 'timeout', detail: '', runningFiles: [] } })).toBe('failed by timeout');
    expect(variantVerdict({ tests: [], unhandled: [], aborted: { reason: 'crash', detail: '', runningFiles: [] } })).toBe('failed by crash');
  });
  it('all passing is NOT CAUGHT; a variant that cannot load tests nothing', () => {
    expect(variantVerdict({ tests: [t('labs/03-epoll/b.test.ts', 'passed')], unhandled: [] })).toBe('NOT CAUGHT');
    expect(variantVerdict({ tests: [fail('Failed to load url ./nope.ts', 'Error')], unhandled: [] })).toBe('does not load');
    expect(variantVerdict({ tests: [], unhandled: [] })).toBe('no tests ran');
  });
});

describe('parseStack', async () => {
  const { parseStack } = await import('../lib/vitest-run.ts');
  it('reads frames from a raw V8 stack (file paths and file:// URLs)', () => {
    const stack = 'Error: TODO\n    at encodeFrame (/p/labs/00-packets/frames.ts:35:9)\n    at file:///p/labs/00-packets/frames.test.ts:12:5\n    at node:internal/x:1:1';
    expect(parseStack(stack)).toEqual([
      { file: '/p/labs/00-packets/frames.ts', line: 35, column: 9 },
      { file: '/p/labs/00-packets/frames.test.ts', line: 12, column: 5 },
    ]);
  });
});
