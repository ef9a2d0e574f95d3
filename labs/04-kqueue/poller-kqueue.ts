// The kqueue backend. Like epoll, registrations (knotes) live in the kernel and kevent() returns
// only the active ones — O(changes + ready) per wake-up. Unlike epoll, reads and writes are two
// separate filters, and there is no call to change a registration on its own: changes are
// collected in a changelist and handed to the kernel with the next kevent() — the same call that
// waits. A busy loop that re-arms writes for hundreds of clients pays one syscall, not hundreds.
//
// Your work is marked TODO (README.md, steps 1–3). The other three backends in this folder keep
// the same contract (poller.ts): read them first.
import {
  EEXIST, EINTR, ENOENT, EVFILT_READ, EVFILT_WRITE, EV_ADD, EV_CLEAR, EV_DELETE, EV_ERROR, errnoName,
  type KEvent, type Process,
} from '#kernel/index.ts';
import { MAX_READY_PER_WAIT, PollerError, type Interest, type Poller, type Ready } from './poller.ts';

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
    // TODO(step 1): -EEXIST if fd is already watched; otherwise queue the changes from NOTHING to
    // `interest` and remember `interest` in this.watched. No syscall here.
    void [fd, interest, EEXIST, NOTHING];
    throw new Error('TODO: KqueuePoller.add (step 1)');
  }

  modify(fd: number, interest: Interest): number {
    // TODO(step 1): -ENOENT if fd is not watched; otherwise queue the changes from what it was to
    // `interest` and remember the new interest. No syscall here either.
    void [fd, interest, ENOENT];
    throw new Error('TODO: KqueuePoller.modify (step 1)');
  }

  remove(fd: number): number {
    // TODO(step 3): -ENOENT if fd is not watched; otherwise forget it. The caller closes the fd next,
    // and close() deletes its knotes — but a change for this fd still waiting in this.changes would
    // be applied by the next kevent() to whichever socket gets this fd number next.
    void fd;
    throw new Error('TODO: KqueuePoller.remove (step 3)');
  }

  async wait(timeoutMs: number | null): Promise<Ready[]> {
    // TODO(step 1): hand this.changes to the kernel in the same kevent() call that waits (and start
    // a new changelist), with this.events as the eventlist and MAX_READY_PER_WAIT as nevents.
    // -EINTR: return []. Another error: throw a PollerError. An event with EV_ERROR is a change the
    // kernel refused (errno in `data`): throw a PollerError naming the fd. Reads and writes are
    // separate knotes, so merge the events into one Ready per fd. A peer that closed comes back as
    // EV_EOF on the filter itself: report it as ready, and the read returns 0.
    void [timeoutMs, EINTR, EV_ERROR, EVFILT_READ, EVFILT_WRITE, MAX_READY_PER_WAIT];
    throw new Error('TODO: KqueuePoller.wait (step 1)');
  }

  close(): void {
    this.changes = [];
    this.watched.clear();
    this.proc.close(this.kq);
  }

  /** Appends the EV_ADD / EV_DELETE changes that turn `before` into `after`; no syscall. */
  private queueChanges(fd: number, before: Interest, after: Interest): void {
    // TODO(steps 1–2): one change per filter whose interest differs: EVFILT_READ for readable,
    // EVFILT_WRITE for writable. Switching on: EV_ADD (step 2: EV_ADD | EV_CLEAR, so the filter
    // reports each change once). Switching off: EV_DELETE. A KEvent is
    // { ident: fd, filter, flags, fflags: 0, data: 0, udata: null }.
    void [fd, before, after, EV_ADD, EV_CLEAR, EV_DELETE];
    throw new Error('TODO: KqueuePoller.queueChanges (steps 1–2)');
  }
}
