// The epoll backend. The interest list lives in the kernel: each fd is registered once and
// epoll_wait walks only the ready list — O(ready) per wake-up, however many fds are watched.
// Edge-triggered (EPOLLET): an fd is reported when its state changes, not on every call.
import {
  EINTR, EPOLLERR, EPOLLET, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLL_CTL_ADD, EPOLL_CTL_DEL, EPOLL_CTL_MOD,
  errnoName, type EpollEvent, type Process,
} from '#kernel/index.ts';
import { MAX_READY_PER_WAIT, PollerError, type Interest, type Poller, type Ready } from './poller.ts';

export class EpollPoller implements Poller {
  readonly name = 'epoll';
  private readonly epfd: number;
  private readonly events: EpollEvent[] = [];

  constructor(private readonly proc: Process) {
    const epfd = proc.epoll_create1(0);
    if (epfd < 0) throw new PollerError('epoll', `epoll_create1 failed with ${errnoName(epfd)}`);
    this.epfd = epfd;
  }

  add(fd: number, interest: Interest): number {
    return this.proc.epoll_ctl(this.epfd, EPOLL_CTL_ADD, fd, { events: eventsOf(interest), data: fd });
  }

  modify(fd: number, interest: Interest): number {
    return this.proc.epoll_ctl(this.epfd, EPOLL_CTL_MOD, fd, { events: eventsOf(interest), data: fd });
  }

  remove(fd: number): number {
    // close() would drop the registration too — but only once no other fd shares the socket.
    return this.proc.epoll_ctl(this.epfd, EPOLL_CTL_DEL, fd, null);
  }

  async wait(timeoutMs: number | null): Promise<Ready[]> {
    const n = await this.proc.epoll_wait(this.epfd, this.events, MAX_READY_PER_WAIT, timeoutMs);
    if (n === -EINTR) return [];
    if (n < 0) throw new PollerError('epoll', `epoll_wait failed with ${errnoName(n)}`);
    const ready: Ready[] = [];
    for (let i = 0; i < n; i++) {
      const { events, data } = this.events[i]!;
      const trouble = (events & (EPOLLERR | EPOLLHUP)) !== 0;
      ready.push({ fd: data as number, readable: (events & EPOLLIN) !== 0 || trouble, writable: (events & EPOLLOUT) !== 0 });
    }
    return ready;
  }

  close(): void {
    this.proc.close(this.epfd);
  }
}

function eventsOf(interest: Interest): number {
  return EPOLLET | (interest.readable ? EPOLLIN : 0) | (interest.writable ? EPOLLOUT : 0);
}
