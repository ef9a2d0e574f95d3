import { describe, expect, it } from 'vitest';
import { EPOLLIN, EPOLL_CTL_ADD, Kernel, type EpollEvent } from './index.ts';
import { PORT, world } from './test-helpers.ts';

describe('time: settle, advance, until', () => {
  it('virtual time stands still until asked; advance fires timeouts in order', async () => {
    const kernel = new Kernel({ clock: 'virtual' });
    const p = kernel.spawn();
    const order: number[] = [];
    void p.poll([], 300).then(() => order.push(300));
    void p.poll([], 100).then(() => order.push(100));
    await kernel.settle();
    expect(kernel.now()).toBe(0);
    expect(order).toEqual([]);
    await kernel.advance(1000);
    expect(order).toEqual([100, 300]);
    expect(kernel.now()).toBe(1000);
  });

  it('until() jumps to the next timer and reports a condition that can never become true', async () => {
    const kernel = new Kernel();
    const p = kernel.spawn();
    let fired = false;
    void p.poll([], 4000).then(() => (fired = true));
    await kernel.until(() => fired, { what: 'the poll timeout' });
    expect(kernel.now()).toBe(4000);
    await expect(kernel.until(() => false, { what: 'a miracle' })).rejects.toThrow(/a miracle did not happen.*blocked/);
    void p.poll([], 10_000);
    await expect(kernel.until(() => false, { timeoutMs: 50, what: 'x' })).rejects.toThrow(/within 50 ms/);
  });

  it('settle() reports a loop that spins on timeout 0 instead of hanging', async () => {
    const { kernel, server } = world();
    const ep = server.epoll_create1(0);
    let stop = false;
    const spin = (async () => {
      while (!stop) {
        await server.epoll_wait(ep, [], 1, 0);
        await new Promise((r) => setImmediate(r));
      }
    })();
    await expect(kernel.settle()).rejects.toThrow(/still busy/);
    stop = true;
    await spin;
  });

  it('real clock: a waiting epoll_wait wakes promptly when a client connects', async () => {
    const { kernel, server, listener } = world({ clock: 'real' });
    const ep = server.epoll_create1(0);
    server.epoll_ctl(ep, EPOLL_CTL_ADD, listener, { events: EPOLLIN, data: 0 });
    const out: EpollEvent[] = [];
    const t0 = kernel.now();
    const waiting = server.epoll_wait(ep, out, 4, 5000);
    setTimeout(() => kernel.client(PORT), 20);
    expect(await waiting).toBe(1);
    expect(kernel.now() - t0).toBeLessThan(2000);
  });
});
