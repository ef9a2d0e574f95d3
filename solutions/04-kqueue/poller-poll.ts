// The poll backend. An array of { fd, events, revents } instead of bitmaps: no 1024 wall, but the
// whole array is copied in and every entry looked at on each wait — O(watched fds) per wake-up.
import {
  EEXIST, EINTR, ENOENT, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, errnoName, type PollFd, type Process,
} from '#kernel/index.ts';
import { PollerError, type Interest, type Poller, type Ready } from './poller.ts';

export class PollPoller implements Poller {
  readonly name = 'poll';
  private readonly entries: PollFd[] = [];
  /** fd → its index in `entries`, so modify and remove need no search. */
  private readonly slot = new Map<number, number>();

  constructor(private readonly proc: Process) {}

  add(fd: number, interest: Interest): number {
    if (this.slot.has(fd)) return -EEXIST;
    this.slot.set(fd, this.entries.length);
    this.entries.push({ fd, events: eventsOf(interest), revents: 0 });
    return 0;
  }

  modify(fd: number, interest: Interest): number {
    const i = this.slot.get(fd);
    if (i === undefined) return -ENOENT;
    this.entries[i]!.events = eventsOf(interest);
    return 0;
  }

  remove(fd: number): number {
    const i = this.slot.get(fd);
    if (i === undefined) return -ENOENT;
    // Move the last entry into the hole. Safe here because wait() has already turned revents into
    // its result; doing this while walking the array is the bug that skips the moved entry.
    const last = this.entries.pop()!;
    if (i < this.entries.length) {
      this.entries[i] = last;
      this.slot.set(last.fd, i);
    }
    this.slot.delete(fd);
    return 0;
  }

  async wait(timeoutMs: number | null): Promise<Ready[]> {
    const n = await this.proc.poll(this.entries, timeoutMs);
    if (n === -EINTR) return [];
    if (n < 0) throw new PollerError('poll', `poll() failed with ${errnoName(n)}`);
    const ready: Ready[] = [];
    if (n === 0) return ready;
    for (const { fd, events, revents } of this.entries) {
      if (revents === 0) continue;
      // POLLNVAL would come back on every call, at once: the loop would spin. Fail loudly instead.
      if (revents & POLLNVAL) throw new PollerError('poll', `fd ${fd} is not open (POLLNVAL) — was it closed without remove()?`);
      const trouble = (revents & (POLLERR | POLLHUP)) !== 0;
      // An error or a hang-up is reported even for an fd watched for nothing: readable, whatever was asked.
      const readable = ((events & POLLIN) !== 0 && (revents & POLLIN) !== 0) || trouble;
      const writable = (events & POLLOUT) !== 0 && ((revents & POLLOUT) !== 0 || trouble);
      if (readable || writable) ready.push({ fd, readable, writable });
    }
    return ready;
  }

  close(): void {
    this.entries.length = 0;
    this.slot.clear();
  }
}

function eventsOf(interest: Interest): number {
  return (interest.readable ? POLLIN : 0) | (interest.writable ? POLLOUT : 0);
}
