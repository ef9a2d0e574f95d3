import { describe, expect, it } from 'vitest';
import { formatMeter } from '../lib/lab-meter.ts';

describe('the lab meter line', () => {
  it('totals the wake-ups of the waiting call, fds and bytes of every call, and divides by messages', () => {
    const line = formatMeter({
      calls: {
        select: { calls: 8, fdsInspected: 64, bytesCopied: 256 },
        read: { calls: 4, fdsInspected: 4, bytesCopied: 200 },
        accept4: { calls: 2, fdsInspected: 0, bytesCopied: 0 },
      },
      messages: 4,
      connections: 2,
    });
    expect(line).toBe(
      'meter: 8 wake-ups (select) · 68 fds inspected · 456 bytes copied · 4 messages, 2 connected → per message: 2.0 wake-ups, 17.0 fds, 114 bytes',
    );
  });
  it('says nothing per message before the first one', () => {
    expect(formatMeter({ calls: {}, messages: 0, connections: 0 })).toBe('meter: 0 wake-ups · 0 fds inspected · 0 bytes copied · 0 messages, 0 connected');
  });
});
