// Kernel.spuriousReadable: the one answer the emulator gives only when a grader asks for it — a
// readiness report that the next read() or accept() does not honour (select(2), BUGS). Off by
// default, so the conformance suite (real Linux) sees the plain socket model; here: every poller
// reports it once, the read answers -EAGAIN, and it leaves no trace.
import { describe, expect, it } from 'vitest';
import {
  EAGAIN, EPOLLET, EPOLLIN, EPOLL_CTL_ADD, EVFILT_READ, EV_ADD, EV_CLEAR, FD_ISSET, FD_SET, FD_ZERO, FdSet,
  POLLIN, type EpollEvent, type KEvent,
} from './index.ts';
import { bytes, world } from './test-helpers.ts';

describe('Kernel.spuriousReadable', () => {
  it('select, poll, level- and edge-triggered epoll and kqueue report it; read() then says EAGAIN and it is gone', async () => {
    const { kernel, server, pair } = world();
    const { s } = pair();
    const ep = server.epoll_create1(0);
    const et = server.epoll_create1(0);
    server.epoll_ctl(ep, EPOLL_CTL_ADD, s, { events: EPOLLIN, data: 'lt' });
    server.epoll_ctl(et, EPOLL_CTL_ADD, s, { events: EPOLLIN | EPOLLET, data: 'et' });
    const kq = server.kqueue();
    await server.kevent(kq, [{ ident: s, filter: EVFILT_READ, flags: EV_ADD | EV_CLEAR, fflags: 0, data: 0, udata: null }], [], 0, 0);
    const report = async () => {
      const fds = [{ fd: s, events: POLLIN, revents: 0 }];
      await server.poll(fds, 0);
      const set = new FdSet();
      FD_ZERO(set);
      FD_SET(s, set);
      await server.select(s + 1, set, null, null, 0);
      const lt: EpollEvent[] = [];
      const etOut: EpollEvent[] = [];
      const kev: KEvent[] = [];
      return {
        poll: fds[0]!.revents & POLLIN,
        select: FD_ISSET(s, set),
        lt: await server.epoll_wait(ep, lt, 8, 0),
        et: await server.epoll_wait(et, etOut, 8, 0),
        kq: await server.kevent(kq, [], kev, 8, 0),
      };
    };
    expect(await report(), 'nothing arrived: nothing is ready').toEqual({ poll: 0, select: false, lt: 0, et: 0, kq: 0 });
    expect(kernel.spuriousReadable(server, s)).toBe(true);
    expect(await report(), 'every poller reports the spurious readiness').toEqual({ poll: POLLIN, select: true, lt: 1, et: 1, kq: 1 });
    expect(server.read(s, new Uint8Array(16)), 'the read finds nothing').toBe(-EAGAIN);
    expect(await report(), 'after the read it is gone').toEqual({ poll: 0, select: false, lt: 0, et: 0, kq: 0 });
    expect(kernel.spuriousReadable(server, 99), 'not an open socket').toBe(false);
  });

  it('does not hide real data: a read after a spurious report returns the bytes that did arrive', () => {
    const { kernel, server, peer, pair } = world();
    const { s, c } = pair();
    kernel.spuriousReadable(server, s);
    peer.write(c, bytes(5));
    expect(server.read(s, new Uint8Array(16))).toBe(5);
    expect(server.read(s, new Uint8Array(16))).toBe(-EAGAIN);
  });

  it('on a listener: reported readable, accept4 then says EAGAIN', async () => {
    const { kernel, server, listener } = world();
    kernel.spuriousReadable(server, listener);
    const fds = [{ fd: listener, events: POLLIN, revents: 0 }];
    expect(await server.poll(fds, 0)).toBe(1);
    expect(server.accept4(listener, 0)).toBe(-EAGAIN);
    expect(await server.poll(fds, 0)).toBe(0);
  });
});
