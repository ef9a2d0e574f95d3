import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EBADF, EINVAL, EMFILE, EPERM, RLIMIT_NOFILE, Kernel, errnoName, strerror } from './index.ts';

describe('file descriptors and RLIMIT_NOFILE', () => {
  it('starts with 0, 1, 2 taken and a soft limit of 1024 under a higher hard limit', () => {
    const p = new Kernel().spawn();
    expect(p.openFds()).toEqual([0, 1, 2]);
    const lim = p.getrlimit(RLIMIT_NOFILE);
    expect(lim.soft).toBe(1024);
    expect(lim.hard).toBeGreaterThan(1024);
    expect(p.socket()).toBe(3);
  });

  it('always hands out the lowest free number (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(40)), { maxLength: 120 }), (ops) => {
        const p = new Kernel().spawn();
        const open = new Set([0, 1, 2]);
        for (const [isOpen, pick] of ops) {
          if (isOpen || open.size <= 3) {
            let expected = 0;
            while (open.has(expected)) expected++;
            expect(p.socket()).toBe(expected);
            open.add(expected);
          } else {
            const candidates = [...open].filter((f) => f > 2);
            const fd = candidates[pick % candidates.length]!;
            expect(p.close(fd)).toBe(0);
            open.delete(fd);
          }
        }
        expect(p.openFds()).toEqual([...open].sort((a, b) => a - b));
      }),
      { numRuns: 200 },
    );
  });

  it('returns -EMFILE at the soft limit, and setrlimit raises it up to the hard limit', () => {
    const p = new Kernel().spawn({ nofile: { soft: 8, hard: 16 } });
    for (let fd = 3; fd < 8; fd++) expect(p.socket()).toBe(fd);
    expect(p.socket()).toBe(-EMFILE);
    expect(p.epoll_create1()).toBe(-EMFILE);
    expect(p.setrlimit(RLIMIT_NOFILE, { soft: 9, hard: 16 })).toBe(0);
    expect(p.socket()).toBe(8);
    expect(p.socket()).toBe(-EMFILE);
  });

  it('setrlimit: soft above hard is EINVAL, raising hard is EPERM, lowering hard is allowed', () => {
    const p = new Kernel().spawn({ nofile: { soft: 8, hard: 16 } });
    expect(p.setrlimit(RLIMIT_NOFILE, { soft: 17, hard: 16 })).toBe(-EINVAL);
    expect(p.setrlimit(RLIMIT_NOFILE, { soft: 8, hard: 32 })).toBe(-EPERM);
    expect(p.setrlimit(RLIMIT_NOFILE, { soft: 4, hard: 12 })).toBe(0);
    expect(p.getrlimit(RLIMIT_NOFILE)).toEqual({ soft: 4, hard: 12 });
    expect(p.setrlimit(RLIMIT_NOFILE, { soft: 8, hard: 16 })).toBe(-EPERM);
  });

  it('every call on a closed or never-opened fd is EBADF', () => {
    const p = new Kernel().spawn();
    const fd = p.socket();
    expect(p.close(fd)).toBe(0);
    const buf = new Uint8Array(4);
    for (const bad of [fd, 99, -1]) {
      expect(p.close(bad)).toBe(-EBADF);
      expect(p.read(bad, buf)).toBe(-EBADF);
      expect(p.write(bad, buf)).toBe(-EBADF);
      expect(p.bind(bad, 1)).toBe(-EBADF);
      expect(p.listen(bad, 1)).toBe(-EBADF);
      expect(p.accept(bad)).toBe(-EBADF);
      expect(p.connect(bad, 1)).toBe(-EBADF);
      expect(p.shutdown(bad, 1)).toBe(-EBADF);
      expect(p.fcntl(bad, 3)).toBe(-EBADF);
      expect(p.dup(bad)).toBe(-EBADF);
    }
  });

  it('dup shares the open file: it survives until its last fd closes', () => {
    const p = new Kernel().spawn();
    const a = p.socket();
    const b = p.dup(a);
    expect(b).toBe(a + 1);
    expect(p.close(a)).toBe(0);
    expect(p.fcntl(b, 3)).toBeGreaterThanOrEqual(0);
  });

  it('names errnos the way C does', () => {
    expect(errnoName(-EMFILE)).toBe('EMFILE');
    expect(strerror(EBADF)).toBe('Bad file descriptor');
  });
});
