import { describe, expect, it } from 'vitest';
import { explainFailure, shortenValues } from '../lib/explain.ts';
import type { TestRecord } from '../lib/results.ts';

process.env.NO_COLOR = '1';

const ctx = { stage: '00-packets', targetDir: '/t', sourceLine: () => undefined, relPath: (f: string) => f };
const record = (message: string, cause?: string): TestRecord => ({
  file: 'labs/00-packets/frames.test.ts',
  name: 'x',
  state: 'failed',
  errors: [{ name: 'Error', message, frames: [], ...(cause ? { cause: { name: 'AssertionError', message: cause, frames: [] } } : {}) }],
  durationMs: 0,
});

describe('grader messages', () => {
  it('keep whole sentences, however long', () => {
    const prose =
      'The server kept writing to a client that never reads, so its outbound queue can grow the server\'s memory without bound: ' +
      'cap it (options.maxOutboundBytes) and close the connection with ERROR slow_consumer when it overflows, as the README says.';
    expect(prose.length).toBeGreaterThan(240);
    const out = explainFailure(record(prose), ctx).join('\n');
    expect(out).toContain(prose);
    expect(out).not.toMatch(/more characters/);
  });

  it('shorten a huge counterexample in the middle, with its length', () => {
    const value = JSON.stringify([[{ type: 0, body: { text: 'a'.repeat(85_000) } }], []]);
    const out = explainFailure(record(`Property failed after 1 tests\nCounterexample: ${value}\nShrunk 5 time(s)`, 'expected 1 to be 2'), ctx);
    const text = out.join('\n');
    expect(text.length).toBeLessThan(1_000);
    expect(text).toContain(`(${value.length.toLocaleString('en-US')} characters)`);
    expect(text).toContain('Counterexample: [[{"type":0,"body":{"text":"aaa');
    expect(text).toMatch(/aaa"}}\],\[\]\]/); // its end is shown too
    expect(text).toContain('expected 1 to be 2');
  });

  it('leave short values and multi-line stories alone', () => {
    expect(shortenValues('expected [1,2,3] to deeply equal [1,2]')).toBe('expected [1,2,3] to deeply equal [1,2]');
    const story = Array.from({ length: 20 }, (_, i) => `  ${i + 1}. client ${i % 3} says "hello" (12 bytes), one write per frame`).join('\n');
    const text = explainFailure(record(`scenario failed:\n${story}`), ctx).join('\n');
    expect(text).toContain(story.split('\n').map((l) => `    ${l}`).join('\n'));
  });

  it('shorten long quoted strings and long unbroken runs, keeping the prose around them', () => {
    const line = `SAY "${'x'.repeat(500)}" was answered with ${'0123456789'.repeat(30)} instead of OK`;
    const out = shortenValues(line);
    expect(out).toMatch(/^SAY "x{59}… \(502 characters\) …x{23}" was answered with 0123456789.*… \(300 characters\) ….* instead of OK$/);
  });
});
