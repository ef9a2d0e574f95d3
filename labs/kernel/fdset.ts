// fd_set: a fixed bitmap of FD_SETSIZE (1024) bits, as glibc defines it. The size is baked into the
// type, which is the whole reason select() cannot watch fd 1024 — the set has no bit for it.
import { FD_SETSIZE } from './cost-model.ts';
import { FortifyAbort } from './errors.ts';

export class FdSet {
  /** 1024 bits in 32-bit words (glibc uses 16 longs of 64 bits; same bits). */
  readonly bits = new Uint32Array(FD_SETSIZE / 32);
}

function check(fd: number): void {
  // glibc's __fdelt_chk: with _FORTIFY_SOURCE an out-of-range fd aborts the program.
  if (!Number.isInteger(fd) || fd < 0 || fd >= FD_SETSIZE) throw new FortifyAbort(fd);
}

export function FD_ZERO(set: FdSet): void {
  set.bits.fill(0);
}

export function FD_SET(fd: number, set: FdSet): void {
  check(fd);
  set.bits[fd >>> 5]! |= 1 << (fd & 31);
}

export function FD_CLR(fd: number, set: FdSet): void {
  check(fd);
  set.bits[fd >>> 5]! &= ~(1 << (fd & 31));
}

export function FD_ISSET(fd: number, set: FdSet): boolean {
  check(fd);
  return (set.bits[fd >>> 5]! & (1 << (fd & 31))) !== 0;
}
