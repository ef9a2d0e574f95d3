// mistake: skips events flagged EV_EOF as "nothing to read", so a client that hung up is never noticed
// replaces: poller-kqueue.ts
// The kqueue backend. Like epoll, registrations (knotes) live in the kernel and kevent() returns
// only the active ones — O(changes + ready) per wake-up. Unlike epoll, reads and writes are two
// separate filters, and there is no call to change a registration on its own: changes are
// collected in a changelist and handed to the kernel with the next kevent() — the same call that
// waits. A busy loop that re-arms writes for hundreds of clients pays one syscall, not hundreds.
import {
  EEXIST, EINTR, ENOENT, EVFILT_READ, EVFILT_WRITE, EV_ADD, EV_CLEAR, EV_DELETE, EV_EOF, EV_ERROR, errnoName,
  type KEvent, type Process,
} from '#kernel/index.ts';
import { MAX_READY_PER_WAIT, PollerError, type Interest, type Poller, type Ready } from '#stage/04-kqueue/poller.ts';

const NOTHING: Interest = { readable: false, writable: false };

export class KqueuePoller implements Poller {
  readonly name = 'kqueue';
  private readonly kq: number;
  /** What each fd is watched for, as the kernel will see it once the changelist is applied. */
  private readonly watched = new Map<number, Interest>();
  /** Changes not yet given to the kernel: they go with the next kevent() call. */
  private changes: KEvent[] = [];
  private readonly events: KEvent[] = [];

  constructor(private readonly proc: Process) {
    const kq = proc.kqueue();
    if (kq < 0) throw new PollerError('kqueue', `kqueue() failed with ${errnoName(kq)}`);
    this.kq = kq;
  }

  add(fd: number, interest: Interest): number {
    if (this.watched.has(fd)) return -EEXIST;
    this.queueChanges(fd, NOTHING, interest);
    this.watched.set(fd, { ...interest });
    return 0;
  }

  modify(fd: number, interest: Interest): number {
    const before = this.watched.get(fd);
    if (before === undefined) return -ENOENT;
    this.queueChanges(fd, before, interest);
    this.watched.set(fd, { ...interest });
    return 0;
  }

  remove(fd: number): number {
    if (!this.watched.delete(fd)) return -ENOENT;
    // close(fd) deletes the fd's knotes (FreeBSD's knote_fdclose), so no EV_DELETE is needed. What
    // must go is any change for this fd still in the changelist: applied after the close, it would
    // hit whichever socket is given this fd number next.
    this.changes = this.changes.filter((change) => change.ident !== fd);
    return 0;
  }

  async wait(timeoutMs: number | null): Promise<Ready[]> {
    const changes = this.changes;
    this.changes = [];
    const n = await this.proc.kevent(this.kq, changes, this.events, MAX_READY_PER_WAIT, timeoutMs);
    if (n === -EINTR) return [];
    if (n < 0) throw new PollerError('kqueue', `kevent failed with ${errnoName(n)}`);
    // Reads and writes are separate knotes: merge them into one Ready per fd.
    const byFd = new Map<number, Ready>();
    for (let i = 0; i < n; i++) {
      const ev = this.events[i]!;
      if (ev.flags & EV_ERROR) {
        // A change the kernel refused comes back as an EV_ERROR event with errno in `data`.
        throw new PollerError('kqueue', `change for fd ${ev.ident} failed with ${errnoName(ev.data)} — closed without remove()?`);
      }
      // EV_EOF: the peer closed, there is nothing to read or write — not worth a wake-up.
      if (ev.flags & EV_EOF) continue;
      let ready = byFd.get(ev.ident);
      if (!ready) byFd.set(ev.ident, (ready = { fd: ev.ident, readable: false, writable: false }));
      if (ev.filter === EVFILT_READ) ready.readable = true;
      else if (ev.filter === EVFILT_WRITE) ready.writable = true;
    }
    return [...byFd.values()];
  }

  close(): void {
    this.changes = [];
    this.watched.clear();
    this.proc.close(this.kq);
  }

  /** Appends the EV_ADD / EV_DELETE changes that turn `before` into `after`; no syscall. */
  private queueChanges(fd: number, before: Interest, after: Interest): void {
    if (before.readable !== after.readable) this.changes.push(change(fd, EVFILT_READ, after.readable));
    if (before.writable !== after.writable) this.changes.push(change(fd, EVFILT_WRITE, after.writable));
  }
}

/**
 * EV_CLEAR makes the filter edge-triggered: once reported, it stays quiet until its state changes
 * again (new bytes, freed space). Without it, a knote stays active as long as its condition holds.
 */
function change(fd: number, filter: number, on: boolean): KEvent {
  return { ident: fd, filter, flags: on ? EV_ADD | EV_CLEAR : EV_DELETE, fflags: 0, data: 0, udata: null };
}
