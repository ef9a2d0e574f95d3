import { describe, expect, it } from 'vitest';
import { formatMeter, tapIdleWaits } from '../lib/lab-meter.ts';

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
      'meter: 8 wake-ups (select) · 68 fds inspected · 456 bytes copied · 4 messages, 2 connected → per message, idle ticks aside: 2.0 wake-ups, 17.0 fds, 114 bytes',
    );
  });
  it('says nothing per message before the first one', () => {
    expect(formatMeter({ calls: {}, messages: 0, connections: 0 })).toBe('meter: 0 wake-ups · 0 fds inspected · 0 bytes copied · 0 messages, 0 connected');
  });
  it('leaves idle timer ticks out of the per-message figures, so a loop that ticks more often does not look worse', async () => {
    const line = formatMeter({
      calls: { epoll_wait: { calls: 30, fdsInspected: 10, bytesCopied: 120 }, read: { calls: 5, fdsInspected: 5, bytesCopied: 500 } },
      messages: 5,
      connections: 2,
      idle: { calls: 20, fdsInspected: 0, bytesCopied: 80 },
    });
    expect(line).toContain('30 wake-ups (epoll_wait; 20 of them idle ticks)');
    expect(line).toContain('per message, idle ticks aside: 2.0 wake-ups, 3.0 fds, 108 bytes');
  });
  it('tapIdleWaits adds up exactly the waits that returned 0', async () => {
    const { Kernel } = await import('#kernel/index.ts');
    const kernel = new Kernel({ clock: 'virtual' });
    const proc = kernel.spawn();
    const idle = { calls: 0, fdsInspected: 0, bytesCopied: 0 };
    tapIdleWaits(proc, idle);
    const ep = proc.epoll_create1(0);
    const waiting = proc.epoll_wait(ep, [], 8, 1000);
    await kernel.advance(1000);
    expect(await waiting).toBe(0);
    expect(idle.calls).toBe(1);
    expect(proc.meter.get('epoll_wait').calls).toBe(1);
  });
});
