// select(2): the caller hands over up to three bitmaps; each pass the kernel tests every bit below
// nfds, so the work grows with the highest fd, not with how many fds are busy. The sets are
// rewritten in place to say which fds are ready, so the caller must rebuild them before every call.
import { EBADF, EINVAL, POLLERR, POLLHUP, POLLIN, POLLOUT, POLLPRI, POLLRDNORM, POLLWRNORM } from './constants.ts';
import { FD_SETSIZE, selectCost } from './cost-model.ts';
import type { ProcessCore } from './core.ts';
import { FdSet } from './fdset.ts';
import type { KFile } from './file.ts';
import { sleepUntilReady } from './wait.ts';

// Linux fs/select.c: which poll bits count as "ready" for each of the three sets.
const READ_READY = POLLIN | POLLRDNORM | POLLHUP | POLLERR;
const WRITE_READY = POLLOUT | POLLWRNORM | POLLERR;
const EXCEPT_READY = POLLPRI;

export async function select(
  proc: ProcessCore,
  nfds: number,
  readfds: FdSet | null,
  writefds: FdSet | null,
  exceptfds: FdSet | null,
  timeoutMs: number | null,
): Promise<number> {
  proc.activity();
  // Linux itself accepts any nfds and would read past a 1024-bit fd_set; the emulator's sets have
  // exactly FD_SETSIZE bits, so it refuses instead of reading memory that isn't there.
  if (!Number.isInteger(nfds) || nfds < 0 || nfds > FD_SETSIZE) return -EINVAL;
  if (timeoutMs !== null && !(timeoutMs >= 0)) return -EINVAL;
  const sets = [readfds, writefds, exceptfds];
  const nonNull = sets.filter((s) => s !== null).length;
  // Copy the sets in (the kernel works on its own copy) and check every requested fd is open.
  const wanted = sets.map((s) => (s ? s.bits.slice() : null));
  for (let fd = 0; fd < nfds; fd++) {
    if (anyBit(wanted, fd) && !proc.fds.get(fd)) {
      proc.meter.charge('select', selectCost(nfds, nonNull));
      return -EBADF;
    }
  }
  let firstPass = true;
  const out = sets.map(() => new Uint32Array(FD_SETSIZE / 32));
  const pass = (): number | null => {
    const cost = selectCost(nfds, nonNull);
    // bytesCopied (sets in and out) and the call itself count once; every pass rescans nfds bits.
    proc.meter.charge('select', firstPass ? cost : { calls: 0, fdsInspected: nfds, bytesCopied: 0 });
    firstPass = false;
    for (const o of out) o.fill(0);
    let count = 0;
    for (let fd = 0; fd < nfds; fd++) {
      if (!anyBit(wanted, fd)) continue;
      const file = proc.fds.get(fd);
      if (!file) continue; // closed while we slept; Linux would report EBADF on the next call
      const mask = file.pollMask();
      const masks = [READ_READY, WRITE_READY, EXCEPT_READY];
      for (let i = 0; i < 3; i++) {
        if (hasBit(wanted[i]!, fd) && mask & masks[i]!) {
          out[i]![fd >>> 5]! |= 1 << (fd & 31);
          count++;
        }
      }
    }
    return count > 0 ? count : null;
  };
  const files = function* (): Iterable<KFile> {
    for (let fd = 0; fd < nfds; fd++) {
      const f = anyBit(wanted, fd) ? proc.fds.get(fd) : undefined;
      if (f) yield f;
    }
  };
  const count = await sleepUntilReady({
    clock: proc.clock,
    onActivity: () => proc.activity(),
    timeoutMs,
    pass,
    empty: () => 0,
    files,
  });
  // Copy the result back over the caller's sets: an fd not ready is cleared.
  sets.forEach((s, i) => s && s.bits.set(out[i]!));
  return count;
}

function hasBit(bits: Uint32Array | null, fd: number): boolean {
  return bits !== null && (bits[fd >>> 5]! & (1 << (fd & 31))) !== 0;
}

function anyBit(sets: Array<Uint32Array | null>, fd: number): boolean {
  return hasBit(sets[0]!, fd) || hasBit(sets[1]!, fd) || hasBit(sets[2]!, fd);
}
