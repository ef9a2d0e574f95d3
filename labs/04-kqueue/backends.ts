// Picks a backend by name — the one place that knows all four, like the #ifdef ladder at the top
// of Redis's ae.c.
import type { Process } from '#kernel/index.ts';
import type { BackendName, Poller } from './poller.ts';
import { EpollPoller } from './poller-epoll.ts';
import { KqueuePoller } from './poller-kqueue.ts';
import { PollPoller } from './poller-poll.ts';
import { SelectPoller } from './poller-select.ts';

export function createPoller(proc: Process, backend: BackendName): Poller {
  switch (backend) {
    case 'select':
      return new SelectPoller(proc);
    case 'poll':
      return new PollPoller(proc);
    case 'epoll':
      return new EpollPoller(proc);
    case 'kqueue':
      return new KqueuePoller(proc);
  }
}
