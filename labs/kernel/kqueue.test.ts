import { describe, expect, it } from 'vitest';
import {
  EBADF, EINVAL, ENODEV, ENOENT, EVFILT_READ, EVFILT_WRITE, EV_ADD, EV_CLEAR, EV_DELETE, EV_DISABLE,
  EV_ENABLE, EV_EOF, EV_ERROR, EV_ONESHOT, EV_RECEIPT, ECONNRESET, SOL_SOCKET, SO_LINGER, type KEvent,
} from './index.ts';
import { PORT, bytes, drain, world } from './test-helpers.ts';

const ch = (ident: number, filter: number, flags: number, udata: unknown = null): KEvent => ({
  ident, filter, flags, fflags: 0, data: 0, udata,
});

describe('kqueue / kevent', () => {
  it('EVFILT_READ reports bytes readable in data; level-triggered by default', async () => {
    const { server, peer, pair } = world();
    const { s, c } = pair();
    const kq = server.kqueue();
    const out: KEvent[] = [];
    expect(await server.kevent(kq, [ch(s, EVFILT_READ, EV_ADD, 'conn')], out, 8, 0)).toBe(0);
    peer.write(c, bytes(42));
    expect(await server.kevent(kq, [], out, 8, 0)).toBe(1);
    expect(out[0]).toMatchObject({ ident: s, filter: EVFILT_READ, data: 42, udata: 'conn' });
    server.read(s, new Uint8Array(40));
    expect(await server.kevent(kq, [], out, 8, 0)).toBe(1);
    expect(out[0]!.data).toBe(2);
  });

  it('EV_CLEAR fires again only on new data', async () => {
    const { server, peer, pair } = world();
    const { s, c } = pair();
    const kq = server.kqueue();
    const out: KEvent[] = [];
    await server.kevent(kq, [ch(s, EVFILT_READ, EV_ADD | EV_CLEAR)], out, 8, 0);
    peer.write(c, bytes(5));
    expect(await server.kevent(kq, [], out, 8, 0)).toBe(1);
    expect(await server.kevent(kq, [], out, 8, 0)).toBe(0);
    peer.write(c, bytes(5));
    expect(await server.kevent(kq, [], out, 8, 0)).toBe(1);
    expect(out[0]!.data).toBe(10);
  });

  it('EV_ONESHOT deletes the knote after one delivery; EV_DISABLE/EV_ENABLE pause and resume it', async () => {
    const { server, peer, pair } = world();
    const { s, c } = pair();
    const kq = server.kqueue();
    const out: KEvent[] = [];
    await server.kevent(kq, [ch(s, EVFILT_READ, EV_ADD | EV_ONESHOT)], out, 8, 0);
    peer.write(c, bytes(1));
    expect(await server.kevent(kq, [], out, 8, 0)).toBe(1);
    expect(out[0]!.flags & EV_ONESHOT).toBe(EV_ONESHOT);
    expect(await server.kevent(kq, [], out, 8, 0)).toBe(0);
    expect(await server.kevent(kq, [ch(s, EVFILT_READ, EV_DELETE)], out, 8, 0)).toBe(1); // gone: ENOENT
    expect(out[0]).toMatchObject({ flags: EV_ERROR, data: ENOENT });
    await server.kevent(kq, [ch(s, EVFILT_READ, EV_ADD | EV_DISABLE)], out, 0, 0);
    expect(await server.kevent(kq, [], out, 8, 0)).toBe(0);
    await server.kevent(kq, [ch(s, EVFILT_READ, EV_ENABLE)], out, 0, 0);
    expect(await server.kevent(kq, [], out, 8, 0)).toBe(1);
  });

  it('EVFILT_WRITE: data = free space; EV_EOF with the socket error after a reset', async () => {
    const { server, peer, pair } = world({ sndbuf: 4096 });
    const { s, c } = pair();
    const kq = server.kqueue();
    const out: KEvent[] = [];
    await server.kevent(kq, [ch(s, EVFILT_WRITE, EV_ADD), ch(s, EVFILT_READ, EV_ADD)], out, 0, 0);
    expect(await server.kevent(kq, [], out, 8, 0)).toBe(1);
    expect(out[0]).toMatchObject({ filter: EVFILT_WRITE, data: 4096 });
    peer.setsockopt(c, SOL_SOCKET, SO_LINGER, { onoff: 1, linger: 0 });
    peer.close(c);
    expect(await server.kevent(kq, [], out, 8, 0)).toBe(2);
    for (const ev of out.slice(0, 2)) {
      expect(ev.flags & EV_EOF).toBe(EV_EOF);
      expect(ev.fflags).toBe(ECONNRESET);
    }
  });

  it('EV_EOF on read after the peer half-closes; listening socket data = pending connections', async () => {
    const { kernel, server, peer, pair, listener } = world();
    const { s, c } = pair();
    const kq = server.kqueue();
    const out: KEvent[] = [];
    await server.kevent(kq, [ch(s, EVFILT_READ, EV_ADD), ch(listener, EVFILT_READ, EV_ADD)], out, 0, 0);
    peer.shutdown(c, 1);
    kernel.client(PORT);
    kernel.client(PORT);
    expect(await server.kevent(kq, [], out, 8, 0)).toBe(2);
    expect(out.find((e) => e.ident === s)).toMatchObject({ data: 0, flags: EV_EOF, fflags: 0 });
    expect(out.find((e) => e.ident === listener)).toMatchObject({ data: 2 });
    drain(server, s);
  });

  it('errors go into the eventlist as EV_ERROR while there is room, else kevent returns -errno', async () => {
    const { server, pair } = world();
    const { s } = pair();
    const kq = server.kqueue();
    const out: KEvent[] = [];
    const bad = [ch(99, EVFILT_READ, EV_ADD), ch(s, -42, EV_ADD), ch(s, EVFILT_WRITE, EV_DELETE), ch(1, EVFILT_READ, EV_ADD)];
    expect(await server.kevent(kq, bad, out, 8, 0)).toBe(4);
    expect(out.slice(0, 4).map((e) => [e.flags, e.data])).toEqual([
      [EV_ERROR, EBADF],
      [EV_ERROR, EINVAL],
      [EV_ERROR, ENOENT],
      [EV_ERROR, ENODEV],
    ]);
    expect(await server.kevent(kq, [ch(99, EVFILT_READ, EV_ADD)], out, 0, 0)).toBe(-EBADF);
    expect(await server.kevent(s, [], out, 1, 0)).toBe(-EBADF);
    expect(await server.kevent(kq, [], out, -1, 0)).toBe(-EINVAL);
  });

  it('EV_RECEIPT reports every change (data 0 on success) without draining pending events', async () => {
    const { server, peer, pair } = world();
    const a = pair();
    const b = pair();
    const kq = server.kqueue();
    const out: KEvent[] = [];
    await server.kevent(kq, [ch(a.s, EVFILT_READ, EV_ADD)], out, 0, 0);
    peer.write(a.c, bytes(1));
    expect(await server.kevent(kq, [ch(b.s, EVFILT_READ, EV_ADD | EV_RECEIPT)], out, 8, 0)).toBe(1);
    expect(out[0]).toMatchObject({ ident: b.s, flags: EV_ERROR, data: 0 });
    expect(await server.kevent(kq, [], out, 8, 0)).toBe(1);
    expect(out[0]!.ident).toBe(a.s);
  });

  it('close(fd) removes its knotes; kevent waits and wakes like the others; O(changes + ready) cost', async () => {
    const { kernel, server, peer, pair } = world();
    const conns = Array.from({ length: 20 }, () => pair());
    const kq = server.kqueue();
    const out: KEvent[] = [];
    await server.kevent(kq, conns.map(({ s }) => ch(s, EVFILT_READ, EV_ADD)), out, 0, 0);
    server.close(conns[0]!.s);
    peer.write(conns[0]!.c, bytes(1));
    expect(await server.kevent(kq, [], out, 8, 0)).toBe(0);
    const waiting = server.kevent(kq, [], out, 8, null);
    await kernel.settle();
    peer.write(conns[5]!.c, bytes(3));
    server.meter.reset();
    expect(await waiting).toBe(1);
    expect(out[0]).toMatchObject({ ident: conns[5]!.s, data: 3 });
    expect(server.meter.get('kevent')).toEqual({ calls: 0, fdsInspected: 1, bytesCopied: 64 });
  });
});
