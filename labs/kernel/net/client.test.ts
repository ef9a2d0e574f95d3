import { describe, expect, it } from 'vitest';
import { EAGAIN, ECONNRESET, EPOLLIN, EPOLL_CTL_ADD, SOCK_NONBLOCK, type EpollEvent } from '../index.ts';
import { PORT, bytes, drain, world } from '../test-helpers.ts';

describe('simulated clients', () => {
  it('connect, send, receive frames, half-close; the server sees every byte and then EOF', async () => {
    const { kernel, server, listener } = world();
    const c = kernel.client(PORT);
    c.sendFrame(1, { text: 'hi' });
    c.send(bytes(20_000));
    c.shutdownWrite();
    await kernel.settle();
    expect(c.connected).toBe(true);
    const s = server.accept4(listener, SOCK_NONBLOCK);
    let total = 0;
    let last = -EAGAIN;
    for (let i = 0; i < 1000 && last !== 0; i++) {
      const r = drain(server, s);
      total += r.data.length;
      last = r.last;
      await kernel.settle();
    }
    expect(total).toBe(20_000 + 4 + 1 + JSON.stringify({ text: 'hi' }).length);
    expect(last).toBe(0);
    server.write(s, new Uint8Array([0, 0, 0, 3, 2, 123, 125]));
    server.close(s);
    await kernel.settle();
    expect(c.frames()).toEqual([{ type: 2, body: {} }]);
    expect(c.closedByPeer).toBe(true);
  });

  it('a refused connection is reported as ECONNREFUSED', async () => {
    const { kernel } = world();
    const c = kernel.client(1234);
    await kernel.settle();
    expect(c.connected).toBe(false);
    expect(c.error).toBe('ECONNREFUSED');
  });

  it('never-reads: the server writes until EAGAIN — backpressure is real', async () => {
    const { kernel, server, listener } = world({ sndbuf: 4096, rcvbuf: 8192 });
    const c = kernel.client(PORT, { hostile: 'never-reads' });
    await kernel.settle();
    const s = server.accept4(listener, SOCK_NONBLOCK);
    let sent = 0;
    for (let i = 0; i < 100; i++) {
      const n = server.write(s, bytes(1000));
      if (n < 0) {
        expect(n).toBe(-EAGAIN);
        break;
      }
      sent += n;
      await kernel.settle();
    }
    expect(sent).toBe(4096 + 8192);
    expect(c.received.length).toBe(0);
  });

  it('drip sends one byte per millisecond of kernel time', async () => {
    const { kernel, server, listener } = world();
    const c = kernel.client(PORT, { hostile: 'drip' });
    c.send('hello');
    await kernel.settle();
    const s = server.accept4(listener, SOCK_NONBLOCK);
    const ep = server.epoll_create1(0);
    server.epoll_ctl(ep, EPOLL_CTL_ADD, s, { events: EPOLLIN, data: s });
    const got: number[] = [];
    const t0 = kernel.now();
    await kernel.until(
      () => {
        const buf = new Uint8Array(16);
        const n = server.read(s, buf);
        if (n > 0) got.push(...buf.subarray(0, n));
        return got.length === 5;
      },
      { what: 'five dripped bytes' },
    );
    expect(new TextDecoder().decode(Uint8Array.from(got))).toBe('hello');
    expect(kernel.now() - t0).toBe(5);
    const out: EpollEvent[] = [];
    expect(await server.epoll_wait(ep, out, 4, 0)).toBe(0);
  });

  it('reset-mid-write: half the bytes arrive, then ECONNRESET', async () => {
    const { kernel, server, listener } = world();
    const c = kernel.client(PORT, { hostile: 'reset-mid-write' });
    c.send(bytes(100));
    await kernel.settle();
    const s = server.accept4(listener, SOCK_NONBLOCK);
    const buf = new Uint8Array(1000);
    expect(server.read(s, buf)).toBe(50);
    expect(server.read(s, buf)).toBe(-ECONNRESET);
  });

  it('the same seed replays the same read chunking', async () => {
    const run = async (seed: number) => {
      const { kernel, server, listener } = world();
      const c = kernel.client(PORT, { seed });
      await kernel.settle();
      const s = server.accept4(listener, SOCK_NONBLOCK);
      server.write(s, bytes(50_000));
      await kernel.settle();
      expect(Buffer.compare(c.received, bytes(50_000))).toBe(0);
      return c.proc.meter.get('read').calls; // how many reads depends on the random read sizes
    };
    expect(await run(5)).toBe(await run(5));
    const counts = new Set(await Promise.all([1, 2, 3, 4, 5].map(run)));
    expect(counts.size).toBeGreaterThan(1);
  });
});
