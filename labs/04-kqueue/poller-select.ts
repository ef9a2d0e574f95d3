// The select backend. The watched set lives in our memory and is copied into two fd_sets on every
// wait, which the kernel scans bit by bit up to the highest fd: O(highest fd) per wake-up, busy or
// idle. An fd_set has FD_SETSIZE (1024) bits, so an fd of 1024 or more cannot be watched at all.
import {
  EEXIST, EINTR, EINVAL, ENOENT, FD_ISSET, FD_SET, FD_SETSIZE, FD_ZERO, FdSet, errnoName, type Process,
} from '#kernel/index.ts';
import { PollerError, type Interest, type Poller, type Ready } from './poller.ts';

export class SelectPoller implements Poller {
  readonly name = 'select';
  private readonly watched = new Map<number, Interest>();
  private readonly readfds = new FdSet();
  private readonly writefds = new FdSet();

  constructor(private readonly proc: Process) {}

  add(fd: number, interest: Interest): number {
    // The 1024 wall: FD_SET(1024, …) would write past the end of the set (glibc aborts).
    if (fd < 0 || fd >= FD_SETSIZE) return -EINVAL;
    if (this.watched.has(fd)) return -EEXIST;
    this.watched.set(fd, { ...interest });
    return 0;
  }

  modify(fd: number, interest: Interest): number {
    if (!this.watched.has(fd)) return -ENOENT;
    this.watched.set(fd, { ...interest });
    return 0;
  }

  remove(fd: number): number {
    return this.watched.delete(fd) ? 0 : -ENOENT;
  }

  async wait(timeoutMs: number | null): Promise<Ready[]> {
    // select() overwrites its sets with the answer, so they are rebuilt before every call.
    FD_ZERO(this.readfds);
    FD_ZERO(this.writefds);
    let highest = -1;
    for (const [fd, interest] of this.watched) {
      if (interest.readable) FD_SET(fd, this.readfds);
      if (interest.writable) FD_SET(fd, this.writefds);
      if (fd > highest) highest = fd;
    }
    const n = await this.proc.select(highest + 1, this.readfds, this.writefds, null, timeoutMs);
    if (n === -EINTR) return [];
    if (n < 0) {
      throw new PollerError('select', `select() failed with ${errnoName(n)} — is an fd closed without remove()?`);
    }
    const ready: Ready[] = [];
    if (n === 0) return ready;
    for (const [fd, interest] of this.watched) {
      const readable = interest.readable && FD_ISSET(fd, this.readfds);
      const writable = interest.writable && FD_ISSET(fd, this.writefds);
      if (readable || writable) ready.push({ fd, readable, writable });
    }
    return ready;
  }

  close(): void {
    this.watched.clear(); // nothing lives in the kernel between calls
  }
}
