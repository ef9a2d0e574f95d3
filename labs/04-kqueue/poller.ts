// The Poller: one small interface in front of select, poll, epoll and kqueue, as Redis's `ae` puts
// one in front of ae_select.c, ae_epoll.c and ae_kqueue.c. The server loop is written once against
// it and never learns which mechanism it runs on; each backend is one file that teaches its
// mechanism whole.
//
// The contract every backend keeps:
// - add(fd) starts watching; modify(fd) changes what is watched; remove(fd) forgets it and must be
//   called right before close(fd). Each returns 0 or -errno (-EEXIST, -ENOENT, and for select
//   -EINVAL for an fd at or past FD_SETSIZE: an fd_set has no bit for it).
// - wait() resolves to the fds that are ready, at most one Ready per fd. An error or a hang-up
//   comes back as `readable`: the read that follows says what happened.
// - select and poll are level-triggered: a ready fd is reported on every wait while it stays ready.
//   epoll (EPOLLET) and kqueue (EV_CLEAR) are edge-triggered: once per change. A server that reads
//   until EAGAIN, writes until its queue is empty or EAGAIN, and watches writes only while bytes are
//   queued is correct on both kinds.

export type BackendName = 'select' | 'poll' | 'epoll' | 'kqueue';

/** Every backend, in the order the chapter introduces them. */
export const BACKENDS: readonly BackendName[] = ['select', 'poll', 'epoll', 'kqueue'];

/** What to hear about for one fd. */
export interface Interest {
  readable: boolean;
  writable: boolean;
}

/** One ready fd. */
export interface Ready {
  fd: number;
  readable: boolean;
  writable: boolean;
}

export interface Poller {
  readonly name: BackendName;
  add(fd: number, interest: Interest): number;
  modify(fd: number, interest: Interest): number;
  remove(fd: number): number;
  /** Sleeps until something is ready or timeoutMs passes (null: no timeout); [] on timeout. */
  wait(timeoutMs: number | null): Promise<Ready[]>;
  /** Releases what the backend holds in the kernel (the epoll or kqueue fd). */
  close(): void;
}

/** How many ready fds one wait() hands back at most; the rest come with the next call. */
export const MAX_READY_PER_WAIT = 256;

/** A syscall failed inside wait(): a bug in how the Poller is used, never a client's doing. */
export class PollerError extends Error {
  constructor(backend: BackendName, what: string) {
    super(`${backend} poller: ${what}`);
    this.name = 'PollerError';
  }
}
