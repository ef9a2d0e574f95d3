import { describe, expect, it } from 'vitest';
import { failureKind, orderFailures } from '../lib/order.ts';

describe('failure order', () => {
  it('knows the kinds from file and suite names of the real graders', () => {
    expect(failureKind({ file: 'labs/03-epoll/cost.test.ts', name: '03-epoll: cost with idle clients > x' })).toBe('cost');
    expect(failureKind({ file: 'labs/03-epoll/hostile.test.ts', name: '03-epoll: hostile clients > x' })).toBe('robustness');
    expect(failureKind({ file: 'labs/03-epoll/chat.test.ts', name: '03-epoll: the chat > x' })).toBe('correctness');
    expect(failureKind({ file: 'labs/01-select/server.test.ts', name: '01-select: does the work of a select loop > x' })).toBe('cost');
    expect(failureKind({ file: 'labs/01-select/server.test.ts', name: '01-select: survives hostile clients > x' })).toBe('robustness');
    expect(failureKind({ file: 'labs/00-packets/frames.test.ts', name: 'encodeFrame: the limit counts UTF-8 bytes > x' })).toBe('correctness');
    expect(failureKind({ file: 'labs/05-pool/pool.test.ts', name: '05-pool: cost (counted, not timed) > x' })).toBe('cost');
  });
  it('sorts correctness, robustness, cost; stable within a kind', () => {
    const t = (file: string, name: string) => ({ file, name });
    const sorted = orderFailures([
      t('labs/03-epoll/cost.test.ts', 'c > 1'),
      t('labs/03-epoll/hostile.test.ts', 'hostile > 1'),
      t('labs/03-epoll/chat.test.ts', 'chat > 2'),
      t('labs/03-epoll/chat.test.ts', 'chat > 1'),
    ]);
    expect(sorted.map((x) => x.name)).toEqual(['chat > 2', 'chat > 1', 'hostile > 1', 'c > 1']);
  });
});
