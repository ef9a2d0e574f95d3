import { describe, expect, it } from 'vitest';
import {
  EBADF, EEXIST, EFAULT, EINVAL, ELOOP, ENOENT, EPERM, EPOLLERR, EPOLLET, EPOLLEXCLUSIVE, EPOLLHUP,
  EPOLLIN, EPOLLONESHOT, EPOLLOUT, EPOLLRDHUP, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD,
  RLIMIT_NOFILE, SOCK_NONBLOCK, type EpollEvent,
} from './index.ts';
import { PORT, bytes, drain, world } from './test-helpers.ts';

const ready = async (proc: ReturnType<typeof world>['server'], ep: number, max = 64) => {
  const out: EpollEvent[] = [];
  const n = await proc.epoll_wait(ep, out, max, 0);
  return out.slice(0, Math.max(0, n));
};

describe('epoll_ctl errors', () => {
  it('EBADF, EINVAL, EPERM, EEXIST, ENOENT, ELOOP, EFAULT where Linux returns them', () => {
    const { server, pair } = world();
    const { s } = pair();
    const ep = server.epoll_create1(0);
    const ev = { events: EPOLLIN, data: 0 };
    expect(server.epoll_create1(1)).toBe(-EINVAL);
    expect(server.epoll_ctl(99, EPOLL_CTL_ADD, s, ev)).toBe(-EBADF);
    expect(server.epoll_ctl(ep, EPOLL_CTL_ADD, 99, ev)).toBe(-EBADF);
    expect(server.epoll_ctl(s, EPOLL_CTL_ADD, s, ev)).toBe(-EINVAL); // not an epoll fd
    expect(server.epoll_ctl(ep, EPOLL_CTL_ADD, ep, ev)).toBe(-EINVAL); // epfd == fd
    expect(server.epoll_ctl(ep, EPOLL_CTL_ADD, 1, ev)).toBe(-EPERM); // stdout: no poll method
    expect(server.epoll_ctl(ep, 42, s, ev)).toBe(-EINVAL);
    expect(server.epoll_ctl(ep, EPOLL_CTL_ADD, s, null)).toBe(-EFAULT);
    expect(server.epoll_ctl(ep, EPOLL_CTL_MOD, s, ev)).toBe(-ENOENT);
    expect(server.epoll_ctl(ep, EPOLL_CTL_DEL, s)).toBe(-ENOENT);
    expect(server.epoll_ctl(ep, EPOLL_CTL_ADD, s, ev)).toBe(0);
    expect(server.epoll_ctl(ep, EPOLL_CTL_ADD, s, ev)).toBe(-EEXIST);
    expect(server.epoll_ctl(ep, EPOLL_CTL_MOD, s, { events: EPOLLIN | EPOLLEXCLUSIVE, data: 0 })).toBe(-EINVAL);
    expect(server.epoll_ctl(ep, EPOLL_CTL_DEL, s)).toBe(0);
    const ep2 = server.epoll_create1(0);
    expect(server.epoll_ctl(ep, EPOLL_CTL_ADD, ep2, ev)).toBe(0); // nesting is allowed
    expect(server.epoll_ctl(ep2, EPOLL_CTL_ADD, ep, ev)).toBe(-ELOOP); // a cycle is not
  });

  it('epoll_wait: EINVAL for maxevents <= 0 or a non-epoll fd, EBADF for a bad fd', async () => {
    const { server } = world();
    const ep = server.epoll_create1(0);
    expect(await server.epoll_wait(ep, [], 0, 0)).toBe(-EINVAL);
    expect(await server.epoll_wait(ep, [], -1, 0)).toBe(-EINVAL);
    expect(await server.epoll_wait(99, [], 1, 0)).toBe(-EBADF);
    expect(await server.epoll_wait(server.socket(), [], 1, 0)).toBe(-EINVAL);
  });
});

describe('epoll semantics', () => {
  it('level-triggered re-fires while data is unread; edge-triggered does not until new data arrives', async () => {
    const { server, peer, pair } = world();
    const lt = pair();
    const et = pair();
    const ep = server.epoll_create1(0);
    server.epoll_ctl(ep, EPOLL_CTL_ADD, lt.s, { events: EPOLLIN, data: 'lt' });
    server.epoll_ctl(ep, EPOLL_CTL_ADD, et.s, { events: EPOLLIN | EPOLLET, data: 'et' });
    peer.write(lt.c, bytes(10));
    peer.write(et.c, bytes(10));
    expect((await ready(server, ep)).map((e) => e.data)).toEqual(['lt', 'et']);
    server.read(lt.s, new Uint8Array(1)); // read a little: both still have data
    server.read(et.s, new Uint8Array(1));
    expect((await ready(server, ep)).map((e) => e.data)).toEqual(['lt']);
    expect((await ready(server, ep)).map((e) => e.data)).toEqual(['lt']);
    peer.write(et.c, bytes(1)); // new data: the edge fires again
    expect((await ready(server, ep)).map((e) => e.data).sort()).toEqual(['et', 'lt']);
    expect(drain(server, et.s).data.length).toBe(10);
    drain(server, lt.s);
    expect(await ready(server, ep)).toEqual([]);
  });

  it('EPOLLONESHOT reports once, then stays silent until EPOLL_CTL_MOD re-arms it', async () => {
    const { server, peer, pair } = world();
    const { s, c } = pair();
    const ep = server.epoll_create1(0);
    server.epoll_ctl(ep, EPOLL_CTL_ADD, s, { events: EPOLLIN | EPOLLONESHOT, data: 1 });
    peer.write(c, bytes(1));
    expect(await ready(server, ep)).toEqual([{ events: EPOLLIN, data: 1 }]);
    peer.write(c, bytes(1));
    expect(await ready(server, ep)).toEqual([]);
    expect(server.epoll_ctl(ep, EPOLL_CTL_MOD, s, { events: EPOLLIN | EPOLLONESHOT, data: 2 })).toBe(0);
    expect(await ready(server, ep)).toEqual([{ events: EPOLLIN, data: 2 }]);
  });

  it('always reports EPOLLERR|EPOLLHUP; EPOLLRDHUP when asked for', async () => {
    const { server, peer, pair } = world();
    const a = pair();
    const b = pair();
    const ep = server.epoll_create1(0);
    server.epoll_ctl(ep, EPOLL_CTL_ADD, a.s, { events: EPOLLRDHUP, data: 'a' });
    server.epoll_ctl(ep, EPOLL_CTL_ADD, b.s, { events: 0, data: 'b' });
    peer.shutdown(a.c, 1);
    peer.close(b.c);
    server.write(b.s, bytes(1)); // the closed peer answers RST
    expect(await ready(server, ep)).toEqual([
      { events: EPOLLRDHUP, data: 'a' },
      { events: EPOLLERR | EPOLLHUP, data: 'b' },
    ]);
  });

  it('maxevents smaller than the ready count: the rest come next call, nobody starves', async () => {
    const { server, peer, pair } = world();
    const ep = server.epoll_create1(0);
    const conns = Array.from({ length: 5 }, (_, i) => {
      const p = pair();
      server.epoll_ctl(ep, EPOLL_CTL_ADD, p.s, { events: EPOLLIN, data: i });
      peer.write(p.c, bytes(1));
      return p;
    });
    expect((await ready(server, ep, 2)).map((e) => e.data)).toEqual([0, 1]);
    expect((await ready(server, ep, 2)).map((e) => e.data)).toEqual([2, 3]);
    expect((await ready(server, ep, 2)).map((e) => e.data)).toEqual([4, 0]);
    expect(conns.length).toBe(5);
  });

  it('closing the last fd removes it from the interest list; a dup keeps the registration alive', async () => {
    const { server, peer, pair } = world();
    const a = pair();
    const b = pair();
    const ep = server.epoll_create1(0);
    server.epoll_ctl(ep, EPOLL_CTL_ADD, a.s, { events: EPOLLIN, data: 'a' });
    server.epoll_ctl(ep, EPOLL_CTL_ADD, b.s, { events: EPOLLIN, data: 'b' });
    const copy = server.dup(b.s);
    server.close(a.s);
    server.close(b.s);
    peer.write(b.c, bytes(1));
    expect(await ready(server, ep)).toEqual([{ events: EPOLLIN, data: 'b' }]); // the Linux trap
    expect(server.epoll_ctl(ep, EPOLL_CTL_DEL, b.s)).toBe(-EBADF);
    server.close(copy);
    expect(await ready(server, ep)).toEqual([]);
  });

  it('EPOLLOUT after the peer drains a full buffer; ET fires for it once', async () => {
    const { server, peer, pair } = world({ sndbuf: 2000, rcvbuf: 2000 });
    const { s, c } = pair();
    const ep = server.epoll_create1(0);
    server.epoll_ctl(ep, EPOLL_CTL_ADD, s, { events: EPOLLOUT | EPOLLET, data: 0 });
    expect((await ready(server, ep)).length).toBe(1);
    while (server.write(s, bytes(1000)) > 0);
    expect(await ready(server, ep)).toEqual([]);
    drain(peer, c);
    expect(await ready(server, ep)).toEqual([{ events: EPOLLOUT, data: 0 }]);
    expect(await ready(server, ep)).toEqual([]);
  });

  it('wakes a pending epoll_wait when a client writes, and times out in virtual time', async () => {
    const { kernel, server, listener } = world();
    const ep = server.epoll_create1(0);
    server.epoll_ctl(ep, EPOLL_CTL_ADD, listener, { events: EPOLLIN, data: 'listener' });
    const out: EpollEvent[] = [];
    const waiting = server.epoll_wait(ep, out, 8, -1);
    await kernel.settle();
    kernel.client(PORT);
    expect(await waiting).toBe(1);
    expect(out[0]!.data).toBe('listener');
    server.accept(listener);
    const timed = server.epoll_wait(ep, out, 8, 100);
    await kernel.advance(100);
    expect(await timed).toBe(0);
  });

  it('counts O(ready): 10 ready among 100,000 registered costs what 10 among 10 cost', async () => {
    const cost = async (total: number) => {
      const { server, peer, listener } = world();
      const big = { soft: total + 100, hard: total + 100 };
      server.setrlimit(RLIMIT_NOFILE, big);
      peer.setrlimit(RLIMIT_NOFILE, big);
      const ep = server.epoll_create1(0);
      const clients: number[] = [];
      for (let i = 0; i < total; i++) {
        const c = peer.socket(SOCK_NONBLOCK);
        peer.connect(c, PORT);
        const s = server.accept4(listener, SOCK_NONBLOCK);
        server.epoll_ctl(ep, EPOLL_CTL_ADD, s, { events: EPOLLIN, data: s });
        clients.push(c);
      }
      for (let i = 0; i < 10; i++) peer.write(clients[Math.floor((i * total) / 10)]!, bytes(8));
      server.meter.reset();
      const out: EpollEvent[] = [];
      expect(await server.epoll_wait(ep, out, 64, 0)).toBe(10);
      return server.meter.get('epoll_wait');
    };
    const small = await cost(10);
    const large = await cost(100_000);
    expect(large).toEqual(small);
    expect(small).toEqual({ calls: 1, fdsInspected: 10, bytesCopied: 120 });
  }, 60_000);
});

describe('epoll nesting (EP_MAX_NESTS) and EPOLLEXCLUSIVE, as Linux 6.18 does them', () => {
  /** `n` epoll sets, each watching the one before it: n - 1 links. */
  function tower(proc: ReturnType<typeof world>['server'], n: number): number[] {
    const eps = [proc.epoll_create1(0)];
    for (let i = 1; i < n; i++) {
      const ep = proc.epoll_create1(0);
      expect(proc.epoll_ctl(ep, EPOLL_CTL_ADD, eps.at(-1)!, { events: EPOLLIN, data: i }), `link ${i} of a ${n}-set tower`).toBe(0);
      eps.push(ep);
    }
    return eps;
  }

  it('a chain may have 4 links: ELOOP counts the links below the added set and above the target', () => {
    // The same table real Linux 6.18 gives (labs/kernel/conformance: epoll-nest-*).
    for (let below = 0; below <= 4; below++) {
      for (let above = 0; above <= 4; above++) {
        const { server } = world();
        const added = tower(server, below + 1).at(-1)!; // `below` links under it
        const target = tower(server, above + 1)[0]!; // `above` links over it
        const want = below + 1 + above <= 4 ? 0 : -ELOOP;
        expect(server.epoll_ctl(target, EPOLL_CTL_ADD, added, { events: EPOLLIN, data: 0 }), `${below} links below, ${above} above`).toBe(want);
      }
    }
  });

  it('DEL and close() shorten the chain again', () => {
    const { server } = world();
    const eps = tower(server, 5);
    const top = server.epoll_create1(0);
    const ev = { events: EPOLLIN, data: 0 };
    expect(server.epoll_ctl(top, EPOLL_CTL_ADD, eps[4]!, ev)).toBe(-ELOOP);
    expect(server.epoll_ctl(eps[1]!, EPOLL_CTL_DEL, eps[0]!)).toBe(0);
    expect(server.epoll_ctl(top, EPOLL_CTL_ADD, eps[4]!, ev)).toBe(0);
    const other = tower(server, 2); // other[1] watches other[0]
    // eps[2] has 3 links above it now (eps[3], eps[4], top).
    expect(server.epoll_ctl(eps[2]!, EPOLL_CTL_ADD, other[1]!, ev)).toBe(-ELOOP); // 1 below + 1 + 3 above
    server.close(other[0]!);
    expect(server.epoll_ctl(eps[2]!, EPOLL_CTL_ADD, other[1]!, ev)).toBe(0); // 0 below + 1 + 3 above
  });

  it('EPOLLEXCLUSIVE: one event wakes one sleeping waiter, the first registered still asleep (LTP epoll_wait16)', async () => {
    const { kernel, server, peer, pair } = world();
    const { s, c } = pair();
    const waiters = 8;
    const eps = Array.from({ length: waiters }, () => server.epoll_create1(0));
    for (const ep of eps) expect(server.epoll_ctl(ep, EPOLL_CTL_ADD, s, { events: EPOLLIN | EPOLLET | EPOLLEXCLUSIVE, data: ep })).toBe(0);
    const woken: number[] = [];
    for (const ep of eps) void server.epoll_wait(ep, [], 1, 5000).then((n) => n === 1 && woken.push(ep));
    await kernel.settle();
    for (let round = 1; round <= waiters; round++) {
      peer.write(c, bytes(1));
      await kernel.settle();
      expect(woken, `event ${round} woke ${woken.length} waiters in total, expected ${round}`).toEqual(eps.slice(0, round));
      server.read(s, new Uint8Array(1));
    }
  });

  it('without EPOLLEXCLUSIVE one event wakes every waiter (the thundering herd)', async () => {
    const { kernel, server, peer, pair } = world();
    const { s, c } = pair();
    const eps = Array.from({ length: 8 }, () => server.epoll_create1(0));
    for (const ep of eps) server.epoll_ctl(ep, EPOLL_CTL_ADD, s, { events: EPOLLIN | EPOLLET, data: ep });
    let woken = 0;
    for (const ep of eps) void server.epoll_wait(ep, [], 1, 5000).then((n) => (woken += n));
    await kernel.settle();
    peer.write(c, bytes(1));
    await kernel.settle();
    expect(woken).toBe(8);
  });

  it('EPOLLEXCLUSIVE with nobody asleep: every epoll set still gets the event; misuse is EINVAL', async () => {
    const { server, peer, pair } = world();
    const { s, c } = pair();
    const [a, b] = [server.epoll_create1(0), server.epoll_create1(0)];
    expect(server.epoll_ctl(a, EPOLL_CTL_ADD, s, { events: EPOLLIN | EPOLLRDHUP | EPOLLEXCLUSIVE, data: 0 })).toBe(-EINVAL);
    expect(server.epoll_ctl(a, EPOLL_CTL_ADD, s, { events: EPOLLIN | EPOLLONESHOT | EPOLLEXCLUSIVE, data: 0 })).toBe(-EINVAL);
    expect(server.epoll_ctl(a, EPOLL_CTL_ADD, b, { events: EPOLLIN | EPOLLEXCLUSIVE, data: 0 })).toBe(-EINVAL);
    for (const ep of [a, b]) expect(server.epoll_ctl(ep, EPOLL_CTL_ADD, s, { events: EPOLLIN | EPOLLEXCLUSIVE, data: ep })).toBe(0);
    expect(server.epoll_ctl(a, EPOLL_CTL_MOD, s, { events: EPOLLIN, data: a })).toBe(-EINVAL);
    peer.write(c, bytes(1));
    expect(await ready(server, a)).toEqual([{ events: EPOLLIN, data: a }]);
    expect(await ready(server, b)).toEqual([{ events: EPOLLIN, data: b }]);
  });
});
