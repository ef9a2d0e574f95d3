// The examples of the kernel reference pages live here and are imported into them (VitePress
// `<<< @/../labs/kernel/docs-snippets.test.ts#region`): what a page shows is code that runs, and
// the values its comments promise are asserted below each region.
import { describe, expect, it } from 'vitest';
import { EMFILE, ENOTCONN, EPOLLIN, EPOLL_CTL_ADD, Kernel, RLIMIT_NOFILE, SOCK_NONBLOCK, SOMAXCONN, type EpollEvent } from './index.ts';

describe('docs: the kernel reference examples', () => {
  it('the first socket (reference/kernel/index.md)', () => {
    // #region first-socket
    const kernel = new Kernel({ clock: 'virtual', seed: 42 });
    const proc = kernel.spawn(); // fds 0, 1, 2 are already taken
    const fd = proc.socket(SOCK_NONBLOCK); // 3: the lowest free number
    const n = proc.read(fd, new Uint8Array(16)); // -ENOTCONN: never connected
    // #endregion first-socket
    expect(fd).toBe(3);
    expect(n).toBe(-ENOTCONN);
  });

  it('the fd limit (reference/kernel/fds-and-limits.md)', () => {
    const kernel = new Kernel({ clock: 'virtual' });
    // #region fd-limit
    const proc = kernel.spawn({ nofile: { soft: 8, hard: 16 } });
    const fds = [1, 2, 3, 4, 5, 6].map(() => proc.socket()); // 3 … 7, then -EMFILE
    const raised = proc.setrlimit(RLIMIT_NOFILE, { soft: 16, hard: 16 }); // 0: more room
    // #endregion fd-limit
    expect(fds).toEqual([3, 4, 5, 6, 7, -EMFILE]);
    expect(raised).toBe(0);
    expect(proc.socket()).toBe(8);
  });

  it('reading the meter (reference/kernel/meter-and-network.md)', async () => {
    const kernel = new Kernel({ clock: 'virtual' });
    const proc = kernel.spawn();
    const listener = proc.socket(SOCK_NONBLOCK);
    proc.bind(listener, 7000);
    proc.listen(listener, SOMAXCONN);
    const ep = proc.epoll_create1(0);
    const clients = Array.from({ length: 10 }, () => kernel.client(7000));
    await kernel.settle();
    for (let fd = proc.accept4(listener, SOCK_NONBLOCK); fd >= 0; fd = proc.accept4(listener, SOCK_NONBLOCK)) {
      proc.epoll_ctl(ep, EPOLL_CTL_ADD, fd, { events: EPOLLIN, data: fd });
    }
    clients.forEach((c) => c.send('hi'));
    await kernel.settle();
    const out: EpollEvent[] = [];
    // #region meter
    proc.meter.reset();
    await proc.epoll_wait(ep, out, 64, 0);
    const cost = proc.meter.get('epoll_wait'); // { calls: 1, fdsInspected: 10, bytesCopied: 120 }
    const all = proc.meter.snapshot(); // every syscall by name; proc.meter.total() sums them
    // #endregion meter
    expect(cost).toEqual({ calls: 1, fdsInspected: 10, bytesCopied: 120 });
    expect(Object.keys(all)).toEqual(['epoll_wait']);
    expect(proc.meter.total()).toEqual(cost);
  });
});
