import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  EADDRINUSE, EAGAIN, ECONNREFUSED, ECONNRESET, EINPROGRESS, EINVAL, EISCONN, EMFILE, ENOTCONN, ENOTSOCK,
  EPIPE, ETIMEDOUT, F_GETFL, F_SETFL, Kernel, O_NONBLOCK, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLRDHUP,
  RLIMIT_NOFILE, SHUT_RD, SHUT_WR, SHUT_RDWR, SOCK_NONBLOCK, SOL_SOCKET, SO_ERROR, SO_LINGER,
  WouldBlockError,
} from './index.ts';
import { PORT, bytes, drain, world } from './test-helpers.ts';

const READY = POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP;
const mask = async (proc: ReturnType<typeof world>['server'], fd: number) => {
  const fds = [{ fd, events: READY, revents: 0 }];
  await proc.poll(fds, 0);
  return fds[0]!.revents & READY;
};

describe('setup: socket, bind, listen, accept, connect', () => {
  it('bind: EADDRINUSE for a taken port, EINVAL when already bound', () => {
    const { server } = world();
    const s = server.socket();
    expect(server.bind(s, PORT)).toBe(-EADDRINUSE);
    expect(server.bind(s, 7001)).toBe(0);
    expect(server.bind(s, 7002)).toBe(-EINVAL);
  });

  it('non-blocking connect reports EINPROGRESS, then the socket is writable', async () => {
    const { server, peer, listener } = world();
    const c = peer.socket(SOCK_NONBLOCK);
    expect(peer.connect(c, PORT)).toBe(-EINPROGRESS);
    expect(await mask(peer, c)).toBe(POLLOUT);
    expect(peer.connect(c, PORT)).toBe(-EISCONN);
    expect(server.accept4(listener, SOCK_NONBLOCK)).toBeGreaterThan(2);
  });

  it('connect with no listener: EINPROGRESS, then POLLERR|POLLHUP and SO_ERROR = ECONNREFUSED', async () => {
    const { peer } = world();
    const c = peer.socket(SOCK_NONBLOCK);
    expect(peer.connect(c, 9)).toBe(-EINPROGRESS);
    expect(await mask(peer, c)).toBe(READY);
    expect(peer.getsockopt(c, SOL_SOCKET, SO_ERROR)).toBe(ECONNREFUSED);
    expect(peer.getsockopt(c, SOL_SOCKET, SO_ERROR)).toBe(0);
    const b = peer.socket();
    expect(peer.connect(b, 9)).toBe(-ECONNREFUSED); // blocking connect reports it directly
  });

  it('accept on an empty queue is EAGAIN (non-blocking) and WouldBlockError (blocking)', () => {
    const { server, listener } = world();
    expect(server.accept(listener)).toBe(-EAGAIN);
    expect(server.fcntl(listener, F_SETFL, 0)).toBe(0);
    expect(() => server.accept(listener)).toThrow(WouldBlockError);
  });

  it('accept on a socket that is not listening is EINVAL; on a non-socket ENOTSOCK', () => {
    const { server } = world();
    expect(server.accept(server.socket())).toBe(-EINVAL);
    expect(server.accept(server.epoll_create1())).toBe(-ENOTSOCK);
  });

  it('the accept queue holds backlog + 1; later connectors retry their SYN after 1 s, then get in', async () => {
    const { kernel, server, peer } = world();
    const l = server.socket(SOCK_NONBLOCK);
    server.bind(l, 8000);
    server.listen(l, 1);
    const cs = [0, 1, 2].map(() => {
      const c = peer.socket(SOCK_NONBLOCK);
      expect(peer.connect(c, 8000)).toBe(-EINPROGRESS);
      return c;
    });
    expect(await mask(peer, cs[0]!)).toBe(POLLOUT);
    expect(await mask(peer, cs[1]!)).toBe(POLLOUT);
    expect(await mask(peer, cs[2]!)).toBe(0);
    expect(peer.write(cs[2]!, bytes(1))).toBe(-EAGAIN);
    expect(server.accept(l)).toBeGreaterThan(0);
    expect(await mask(peer, cs[2]!)).toBe(0); // its SYN was dropped: it waits for the retransmit
    await kernel.advance(1000);
    expect(await mask(peer, cs[2]!)).toBe(POLLOUT);
  });

  it('a connector that never finds room gives up with ETIMEDOUT after six retries', async () => {
    const { kernel, server, peer } = world();
    const l = server.socket(SOCK_NONBLOCK);
    server.bind(l, 8001);
    server.listen(l, 0);
    const first = peer.socket(SOCK_NONBLOCK);
    peer.connect(first, 8001);
    const c = peer.socket(SOCK_NONBLOCK);
    peer.connect(c, 8001);
    await kernel.advance(1000 + 2000 + 4000 + 8000 + 16000 + 32000 - 1);
    expect(await mask(peer, c)).toBe(0);
    await kernel.advance(1);
    expect(peer.getsockopt(c, SOL_SOCKET, SO_ERROR)).toBe(ETIMEDOUT);
  });

  it('accept at the fd limit is EMFILE and leaves the connection queued', async () => {
    const { server, peer, listener } = world();
    server.setrlimit(RLIMIT_NOFILE, { soft: server.openFds().length, hard: 2048 });
    const c = peer.socket(SOCK_NONBLOCK);
    peer.connect(c, PORT);
    expect(server.accept(listener)).toBe(-EMFILE);
    expect(await mask(server, listener)).toBe(POLLIN);
    server.setrlimit(RLIMIT_NOFILE, { soft: 1024, hard: 2048 });
    expect(server.accept(listener)).toBeGreaterThan(0);
  });

  it('fcntl reads and sets O_NONBLOCK; accept4 and socket take SOCK_NONBLOCK', () => {
    const { server } = world();
    const s = server.socket();
    expect(server.fcntl(s, F_GETFL) & O_NONBLOCK).toBe(0);
    server.fcntl(s, F_SETFL, O_NONBLOCK);
    expect(server.fcntl(s, F_GETFL) & O_NONBLOCK).toBe(O_NONBLOCK);
    expect(server.fcntl(server.socket(SOCK_NONBLOCK), F_GETFL) & O_NONBLOCK).toBe(O_NONBLOCK);
    expect(server.socket(0x1)).toBe(-EINVAL);
  });

  it('a fresh socket polls POLLOUT|POLLHUP; read on it is ENOTCONN, write EPIPE, shutdown ENOTCONN', async () => {
    const { server } = world();
    const s = server.socket(SOCK_NONBLOCK);
    expect(await mask(server, s)).toBe(POLLOUT | POLLHUP);
    expect(server.read(s, new Uint8Array(1))).toBe(-ENOTCONN);
    expect(server.write(s, bytes(1))).toBe(-EPIPE);
    expect(server.shutdown(s, SHUT_WR)).toBe(-ENOTCONN);
    expect(server.read(server.epoll_create1(), new Uint8Array(1))).toBe(-EINVAL);
  });
});

describe('data: bounded buffers, EOF, reset', () => {
  it('read returns EAGAIN when empty, then the bytes, in order', () => {
    const { server, peer, pair } = world();
    const { s, c } = pair();
    expect(server.read(s, new Uint8Array(8))).toBe(-EAGAIN);
    expect(peer.write(c, bytes(10))).toBe(10);
    const { data, last } = drain(server, s, 3);
    expect(data).toEqual(bytes(10));
    expect(last).toBe(-EAGAIN);
  });

  it('bytes written arrive intact and in order whatever the chunking (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 20 }),
        (writes, reads) => {
          const { server, peer, pair } = world({ sndbuf: 4096, rcvbuf: 8192 });
          const { s, c } = pair();
          const total = writes.reduce((a, b) => a + b, 0);
          const src = bytes(total, 7);
          const got = new Uint8Array(total);
          let received = 0;
          let sent = 0;
          let w = 0;
          let r = 0;
          // Each turn reads at least a byte once any is queued: reads of 1 byte need `total` turns.
          for (let guard = 0; guard < 2 * total + 1_000 && received < total; guard++) {
            if (sent < total) {
              const n = peer.write(c, src.subarray(sent, Math.min(total, sent + writes[w++ % writes.length]!)));
              if (n > 0) sent += n;
              else expect(n).toBe(-EAGAIN);
            }
            const buf = new Uint8Array(reads[r++ % reads.length]!);
            const n = server.read(s, buf);
            if (n > 0) got.set(buf.subarray(0, n), (received += n) - n);
          }
          expect(received).toBe(total);
          expect(Buffer.compare(got, src)).toBe(0);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a peer that never reads fills its receive buffer, then our send buffer: partial write, then EAGAIN', async () => {
    const { server, pair } = world({ sndbuf: 1000, rcvbuf: 3000 });
    const { s } = pair();
    expect(server.write(s, bytes(2500))).toBe(2500);
    expect(server.write(s, bytes(2500))).toBe(1500); // 500 fill the receiver, 1000 the send buffer
    expect(server.write(s, bytes(10))).toBe(-EAGAIN);
    expect((await mask(server, s)) & POLLOUT).toBe(0);
    server.fcntl(s, F_SETFL, 0);
    expect(() => server.write(s, bytes(1))).toThrow(WouldBlockError);
  });

  it('write readiness comes back once the peer drains', async () => {
    const { server, peer, pair } = world({ sndbuf: 1000, rcvbuf: 1000 });
    const { s, c } = pair();
    while (server.write(s, bytes(700)) > 0);
    expect((await mask(server, s)) & POLLOUT).toBe(0);
    drain(peer, c);
    expect((await mask(server, s)) & POLLOUT).toBe(POLLOUT);
  });

  it("half-close: the peer's shutdown(SHUT_WR) gives POLLIN|POLLRDHUP, data then 0, and we can still write", async () => {
    const { server, peer, pair } = world();
    const { s, c } = pair();
    peer.write(c, bytes(5));
    expect(peer.shutdown(c, SHUT_WR)).toBe(0);
    expect(await mask(server, s)).toBe(POLLIN | POLLOUT | POLLRDHUP);
    expect(drain(server, s).last).toBe(0);
    expect(server.read(s, new Uint8Array(4))).toBe(0);
    expect(server.write(s, bytes(3))).toBe(3);
    expect(drain(peer, c).data.length).toBe(3);
    expect(peer.write(c, bytes(1))).toBe(-EPIPE);
    expect(server.shutdown(s, SHUT_WR)).toBe(0);
    expect(await mask(server, s)).toBe(POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
    expect(server.shutdown(s, 7)).toBe(-EINVAL);
  });

  it('shutdown(SHUT_RD) makes reads return 0; SHUT_RDWR shuts both (POLLHUP)', async () => {
    const { server, pair } = world();
    const { s } = pair();
    expect(server.shutdown(s, SHUT_RD)).toBe(0);
    expect(server.read(s, new Uint8Array(1))).toBe(0);
    const b = pair().s;
    expect(server.shutdown(b, SHUT_RDWR)).toBe(0);
    expect((await mask(server, b)) & POLLHUP).toBe(POLLHUP);
  });

  it("after the peer's close() with data unread: POLLIN|POLLOUT|POLLRDHUP and no POLLHUP", async () => {
    const { server, peer, pair } = world();
    const { s, c } = pair();
    peer.write(c, bytes(4));
    peer.close(c);
    expect(await mask(server, s)).toBe(POLLIN | POLLOUT | POLLRDHUP);
    expect(drain(server, s)).toEqual({ data: bytes(4), last: 0 });
  });

  it('writing to a peer that closed: the first write succeeds, the peer answers RST, then EPIPE', async () => {
    const { server, peer, pair } = world();
    const { s, c } = pair();
    peer.close(c);
    expect(server.write(s, bytes(1))).toBe(1);
    expect(await mask(server, s)).toBe(READY);
    expect(server.write(s, bytes(1))).toBe(-EPIPE);
    expect(server.write(s, bytes(1))).toBe(-EPIPE);
    expect(server.read(s, new Uint8Array(1))).toBe(0);
  });

  it('a reset: data still readable, then ECONNRESET once, then 0; writes ECONNRESET then EPIPE', async () => {
    const { server, peer, pair } = world();
    const { s, c } = pair();
    peer.write(c, bytes(3));
    expect(peer.setsockopt(c, SOL_SOCKET, SO_LINGER, { onoff: 1, linger: 0 })).toBe(0);
    peer.close(c);
    expect(await mask(server, s)).toBe(READY);
    expect(server.read(s, new Uint8Array(10))).toBe(3);
    expect(server.read(s, new Uint8Array(10))).toBe(-ECONNRESET);
    expect(server.read(s, new Uint8Array(10))).toBe(0);
    expect(server.write(s, bytes(1))).toBe(-EPIPE);
    const b = pair();
    peer.setsockopt(b.c, SOL_SOCKET, SO_LINGER, { onoff: 1, linger: 0 });
    peer.close(b.c);
    expect(server.write(b.s, bytes(1))).toBe(-ECONNRESET);
    expect(server.write(b.s, bytes(1))).toBe(-EPIPE);
  });

  it('close() with unread data sends RST: the peer sees ECONNRESET', () => {
    const { server, peer, pair } = world();
    const { s, c } = pair();
    peer.write(c, bytes(2));
    server.close(s);
    expect(peer.read(c, new Uint8Array(4))).toBe(-ECONNRESET);
  });

  it('closing a listener resets the connections still in its queue', () => {
    const { server, peer, listener } = world();
    const c = peer.socket(SOCK_NONBLOCK);
    peer.connect(c, PORT);
    server.close(listener);
    expect(peer.read(c, new Uint8Array(4))).toBe(-ECONNRESET);
    const d = peer.socket(SOCK_NONBLOCK);
    peer.connect(d, PORT);
    expect(peer.getsockopt(d, SOL_SOCKET, SO_ERROR)).toBe(ECONNREFUSED);
  });
});

describe('blocking mode', () => {
  it('proc.blocking.* wait for the other side instead of failing', async () => {
    const kernel = new Kernel();
    const srv = kernel.spawn();
    const cli = kernel.spawn();
    const l = srv.socket();
    srv.bind(l, 5000);
    srv.listen(l, 4);
    const accepted = srv.blocking.accept(l);
    const c = cli.socket();
    expect(await cli.blocking.connect(c, 5000)).toBe(0);
    const s = await accepted;
    expect(s).toBeGreaterThan(2);
    const buf = new Uint8Array(16);
    const reading = srv.blocking.read(s, buf);
    await kernel.settle();
    cli.write(c, bytes(5));
    expect(await reading).toBe(5);
    // A blocking write of more than fits waits for the reader.
    const big = bytes(200_000);
    const writing = cli.blocking.write(c, big);
    let got = 0;
    for (let i = 0; i < 1000 && got < big.length; i++) {
      await kernel.settle();
      const n = srv.read(s, new Uint8Array(65536));
      if (n > 0) got += n;
    }
    expect(await writing).toBe(big.length);
    expect(got).toBe(big.length);
    expect(await cli.blocking.connect(cli.socket(), 1)).toBe(-ECONNREFUSED);
  });
});
