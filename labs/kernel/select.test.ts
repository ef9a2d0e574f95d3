import { describe, expect, it } from 'vitest';
import {
  EBADF, EINVAL, FD_CLR, FD_ISSET, FD_SET, FD_SETSIZE, FD_ZERO, FdSet, FortifyAbort, RLIMIT_NOFILE,
} from './index.ts';
import { fdSetBytes } from './cost-model.ts';
import { bytes, world } from './test-helpers.ts';

describe('FdSet and the FD_* macros', () => {
  it('sets, clears and tests bits below 1024', () => {
    const set = new FdSet();
    FD_ZERO(set);
    FD_SET(3, set);
    FD_SET(1023, set);
    expect(FD_ISSET(3, set)).toBe(true);
    expect(FD_ISSET(4, set)).toBe(false);
    expect(FD_ISSET(1023, set)).toBe(true);
    FD_CLR(3, set);
    expect(FD_ISSET(3, set)).toBe(false);
    FD_ZERO(set);
    expect(FD_ISSET(1023, set)).toBe(false);
  });

  it('aborts like a fortified glibc for fd >= FD_SETSIZE (or negative)', () => {
    const set = new FdSet();
    expect(FD_SETSIZE).toBe(1024);
    for (const fn of [FD_SET, FD_CLR, FD_ISSET]) {
      expect(() => fn(1024, set)).toThrow(FortifyAbort);
      expect(() => fn(-1, set)).toThrow('*** buffer overflow detected ***: terminated');
    }
  });
});

describe('select', () => {
  it('rewrites the sets in place and returns the number of ready bits', async () => {
    const { server, peer, pair, listener } = world();
    const a = pair();
    const b = pair();
    peer.write(b.c, bytes(3));
    const r = new FdSet();
    const w = new FdSet();
    for (const fd of [listener, a.s, b.s]) FD_SET(fd, r);
    FD_SET(a.s, w);
    const n = await server.select(b.s + 1, r, w, null, 0);
    expect(n).toBe(2); // b.s readable, a.s writable
    expect(FD_ISSET(b.s, r)).toBe(true);
    expect(FD_ISSET(a.s, r)).toBe(false);
    expect(FD_ISSET(listener, r)).toBe(false);
    expect(FD_ISSET(a.s, w)).toBe(true);
  });

  it('EBADF for a closed fd in a set; EINVAL for nfds out of range or a negative timeout', async () => {
    const { server, pair } = world();
    const { s } = pair();
    const r = new FdSet();
    FD_SET(s, r);
    FD_SET(s + 1, r);
    expect(await server.select(s + 2, r, null, null, 0)).toBe(-EBADF);
    expect(await server.select(-1, null, null, null, 0)).toBe(-EINVAL);
    expect(await server.select(FD_SETSIZE + 1, null, null, null, 0)).toBe(-EINVAL);
    expect(await server.select(1, null, null, null, -5)).toBe(-EINVAL);
  });

  it('blocks until a client writes, then wakes; times out with empty sets', async () => {
    const { kernel, server, peer, pair } = world();
    const { s, c } = pair();
    const r = new FdSet();
    FD_SET(s, r);
    let result: number | null = null;
    void server.select(s + 1, r, null, null, null).then((n) => (result = n));
    await kernel.settle();
    expect(result).toBeNull();
    peer.write(c, bytes(1));
    await kernel.settle();
    expect(result).toBe(1);
    expect(FD_ISSET(s, r)).toBe(true);
    // now a timeout, in virtual time
    server.read(s, new Uint8Array(4));
    FD_SET(s, r);
    const t0 = kernel.now();
    const p = server.select(s + 1, r, null, null, 250);
    await kernel.advance(249);
    let done = false;
    void p.then(() => (done = true));
    await kernel.settle();
    expect(done).toBe(false);
    await kernel.advance(1);
    expect(await p).toBe(0);
    expect(kernel.now() - t0).toBe(250);
    expect(FD_ISSET(s, r)).toBe(false);
  });

  it('charges O(nfds) per pass, whatever is ready, and copies the sets in and out', async () => {
    const { server, pair } = world();
    server.setrlimit(RLIMIT_NOFILE, { soft: 2048, hard: 4096 });
    let last = 0;
    for (let i = 0; i < 500; i++) last = pair().s;
    const r = new FdSet();
    FD_SET(last, r);
    server.meter.reset();
    await server.select(last + 1, r, null, null, 0);
    expect(server.meter.get('select')).toEqual({
      calls: 1,
      fdsInspected: last + 1,
      bytesCopied: 2 * fdSetBytes(last + 1),
    });
  });
});
