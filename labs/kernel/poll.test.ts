import { describe, expect, it } from 'vitest';
import {
  EINVAL, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLRDHUP, RLIMIT_NOFILE, SOL_SOCKET, SO_LINGER,
  type PollFd,
} from './index.ts';
import { bytes, world } from './test-helpers.ts';

describe('poll', () => {
  it('fills revents: asked-for bits, plus POLLERR/POLLHUP always; POLLNVAL for closed fds; negative fds ignored', async () => {
    const { server, peer, pair } = world();
    const a = pair();
    const b = pair();
    peer.write(a.c, bytes(2));
    peer.setsockopt(b.c, SOL_SOCKET, SO_LINGER, { onoff: 1, linger: 0 });
    peer.close(b.c);
    const fds: PollFd[] = [
      { fd: a.s, events: POLLIN, revents: -1 },
      { fd: b.s, events: POLLIN, revents: -1 },
      { fd: -1, events: POLLIN, revents: -1 },
      { fd: 999, events: POLLIN, revents: -1 },
    ];
    expect(await server.poll(fds, 0)).toBe(3);
    // b.s: POLLIN was asked for; POLLERR and POLLHUP come anyway; POLLRDHUP was not asked for.
    expect(fds.map((p) => p.revents)).toEqual([POLLIN, POLLIN | POLLERR | POLLHUP, 0, POLLNVAL]);
  });

  it('reports POLLRDHUP when asked for and the peer half-closes', async () => {
    const { server, peer, pair } = world();
    const { s, c } = pair();
    peer.shutdown(c, 1);
    const fds: PollFd[] = [{ fd: s, events: POLLIN | POLLRDHUP | POLLOUT, revents: 0 }];
    expect(await server.poll(fds, 0)).toBe(1);
    expect(fds[0]!.revents).toBe(POLLIN | POLLOUT | POLLRDHUP);
  });

  it('EINVAL for more entries than RLIMIT_NOFILE', async () => {
    const { server } = world();
    server.setrlimit(RLIMIT_NOFILE, { soft: 16, hard: 16 });
    const fds = Array.from({ length: 17 }, () => ({ fd: -1, events: 0, revents: 0 }));
    expect(await server.poll(fds, 0)).toBe(-EINVAL);
  });

  it('sleeps until readiness changes, and honours its timeout in virtual time', async () => {
    const { kernel, server, peer, pair } = world();
    const { s, c } = pair();
    const fds: PollFd[] = [{ fd: s, events: POLLIN, revents: 0 }];
    const waiting = server.poll(fds, 1000);
    await kernel.advance(500);
    peer.write(c, bytes(1));
    expect(await waiting).toBe(1);
    expect(kernel.now()).toBe(500);
    server.read(s, new Uint8Array(1));
    const timed = server.poll(fds, 1000);
    await kernel.advance(1000);
    expect(await timed).toBe(0);
    expect(fds[0]!.revents).toBe(0);
  });

  it('charges O(n) per pass: every entry, ready or not', async () => {
    const { server, peer, pair } = world();
    const conns = Array.from({ length: 50 }, () => pair());
    peer.write(conns[7]!.c, bytes(1));
    const fds = conns.map(({ s }) => ({ fd: s, events: POLLIN, revents: 0 }));
    server.meter.reset();
    expect(await server.poll(fds, 0)).toBe(1);
    expect(server.meter.get('poll')).toEqual({ calls: 1, fdsInspected: 50, bytesCopied: 2 * 50 * 8 });
  });
});
