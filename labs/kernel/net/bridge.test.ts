import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { ECONNRESET, EPOLLIN, EPOLL_CTL_ADD, Kernel, SOCK_NONBLOCK, bridge, type EpollEvent } from '../index.ts';

/** An emulated epoll echo server that records how each connection ended. */
function echoServer(kernel: Kernel, port: number) {
  const p = kernel.spawn();
  const l = p.socket(SOCK_NONBLOCK);
  p.bind(l, port);
  p.listen(l, 16);
  const ep = p.epoll_create1(0);
  p.epoll_ctl(ep, EPOLL_CTL_ADD, l, { events: EPOLLIN, data: l });
  const endings: string[] = [];
  let running = true;
  const loop = (async () => {
    const evs: EpollEvent[] = [];
    while (running) {
      const n = await p.epoll_wait(ep, evs, 16, 50);
      for (let i = 0; i < n; i++) {
        const fd = evs[i]!.data as number;
        if (fd === l) {
          for (let c; (c = p.accept4(l, SOCK_NONBLOCK)) >= 0; ) p.epoll_ctl(ep, EPOLL_CTL_ADD, c, { events: EPOLLIN, data: c });
          continue;
        }
        const buf = new Uint8Array(4096);
        const r = p.read(fd, buf);
        if (r > 0) p.write(fd, buf.subarray(0, r));
        else if (r === 0 || r === -ECONNRESET) {
          endings.push(r === 0 ? 'eof' : 'reset');
          p.close(fd);
        }
      }
    }
  })();
  return { endings, stop: () => ((running = false), loop) };
}

describe('bridge: real TCP into the emulated host', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  it('echoes bytes both ways and propagates half-close and reset', async () => {
    const kernel = new Kernel({ clock: 'real' });
    const srv = echoServer(kernel, 7070);
    const b = await bridge(kernel, { port: 7070, host: '127.0.0.1', tcpPort: 0 });
    cleanups.push(() => b.close(), srv.stop);

    const sock = net.connect({ host: '127.0.0.1', port: b.address.port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    sock.on('data', (d: Buffer) => chunks.push(d));
    const ended = new Promise<void>((r) => sock.on('end', () => r()));
    await new Promise<void>((r) => sock.on('connect', () => r()));
    const payload = Buffer.alloc(20_000, 7);
    sock.write(payload);
    sock.end(); // half-close: the emulated server reads EOF and closes, we get 'end'
    await ended;
    expect(Buffer.concat(chunks).equals(payload)).toBe(true);
    await kernel.until(() => srv.endings.includes('eof'), { what: 'the server saw EOF', timeoutMs: 5000 });

    const rude = net.connect({ host: '127.0.0.1', port: b.address.port });
    rude.on('error', () => {});
    await new Promise<void>((r) => rude.on('connect', () => r()));
    rude.write('hi');
    await new Promise((r) => rude.once('data', r));
    rude.resetAndDestroy();
    await kernel.until(() => srv.endings.includes('reset'), { what: 'the server saw ECONNRESET', timeoutMs: 5000 });
  });

  it('a connection to an emulated port nobody listens on is reset', async () => {
    const kernel = new Kernel({ clock: 'real' });
    const b = await bridge(kernel, { port: 7999 });
    cleanups.push(() => b.close());
    const sock = net.connect({ host: '127.0.0.1', port: b.address.port });
    const error = await new Promise<NodeJS.ErrnoException | null>((r) => {
      sock.on('error', (e) => r(e));
      sock.on('close', () => r(null));
    });
    expect(error?.code ?? 'closed').toMatch(/ECONNRESET|closed/);
  });

  it('refuses a virtual-clock kernel', async () => {
    await expect(bridge(new Kernel({ clock: 'virtual' }), { port: 1 })).rejects.toThrow(/real/);
  });
});
