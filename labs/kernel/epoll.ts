// epoll(7). The interest list is a map from fd to an EpItem; each EpItem also sits on its file's wait
// queue, so when the file's state changes the item puts *itself* on the epoll's ready list in O(1)
// (Linux's ep_poll_callback). epoll_wait then walks only the ready list: its work is O(ready),
// however many fds are registered.
//
// Level-triggered items go back on the ready list after being reported (they are re-checked next
// time and dropped if no longer ready); edge-triggered items only return when a new wake-up puts
// them there — which is why an ET reader must drain until EAGAIN.
import {
  EBADF, EEXIST, EFAULT, EINVAL, ELOOP, ENOENT, EPERM, EPOLLERR, EPOLLET, EPOLLEXCLUSIVE, EPOLLHUP,
  EPOLLIN, EPOLLONESHOT, EPOLLOUT, EPOLLRDNORM, EPOLLWAKEUP, EPOLL_CLOEXEC, EPOLL_CTL_ADD, EPOLL_CTL_DEL,
  EPOLL_CTL_MOD,
} from './constants.ts';
import { epollCtlCost, epollWaitCost } from './cost-model.ts';
import type { ProcessCore } from './core.ts';
import { KFile, WAKE_IN, type Watcher } from './file.ts';
import { sleepUntilReady } from './wait.ts';

export interface EpollEvent {
  events: number;
  /** Anything: a number, the fd, a connection object — handed back untouched. */
  data: unknown;
}

/** Bits that are flags about the registration, not events (Linux EP_PRIVATE_BITS). */
const EP_PRIVATE_BITS = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;
/** Linux caps maxevents at INT_MAX / sizeof(struct epoll_event). */
const EP_MAX_EVENTS = Math.floor(2147483647 / 12);
/** The only bits EPOLLEXCLUSIVE may come with (Linux EPOLLEXCLUSIVE_OK_BITS); anything else is EINVAL. */
const EPOLLEXCLUSIVE_OK_BITS = EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE;
/**
 * The longest chain of epoll sets watching epoll sets, counted in links: an EPOLL_CTL_ADD of an epoll
 * fd that would make a chain of more than EP_MAX_NESTS links (EP_MAX_NESTS + 1 epoll sets) fails
 * with ELOOP — counting the links below the added epoll and those above the one it is added to
 * (fs/eventpoll.c, ep_loop_check, as in Linux 6.18; older kernels counted only the links below).
 */
const EP_MAX_NESTS = 4;
/** What Epoll.depthBelow returns when the chain leads back to the epoll being added to. */
const LOOP = -1;

class EpItem implements Watcher {
  prev: EpItem | null = null;
  next: EpItem | null = null;
  onReadyList = false;

  constructor(
    readonly ep: Epoll,
    readonly fd: number,
    readonly file: KFile,
    public events: number,
    public data: unknown,
  ) {}

  /** EPOLLEXCLUSIVE: the file wakes exclusive items after the others, and stops at the first that woke a sleeper. */
  get exclusive(): boolean {
    return (this.events & EPOLLEXCLUSIVE) !== 0;
  }

  /** Linux's ep_poll_callback. Returns whether it woke an epoll_wait sleeper (what ends an exclusive wake-up). */
  wake(key: number): boolean {
    if (!(this.events & ~EP_PRIVATE_BITS)) return false; // a fired ONESHOT item sleeps until EPOLL_CTL_MOD
    if (key && !(key & this.events)) return false; // e.g. an EPOLLIN wake-up for an EPOLLOUT-only item
    const sleeper = this.ep.hasSleeper();
    this.ep.enqueue(this);
    if (!sleeper) return false; // queued, but nobody was waiting: an exclusive wake-up goes on to the next epoll
    switch (key & (EPOLLIN | EPOLLOUT)) {
      case EPOLLIN:
        return (this.events & EPOLLIN) !== 0;
      case EPOLLOUT:
        return (this.events & EPOLLOUT) !== 0;
      case 0:
        return true;
      default:
        return false; // both at once: Linux does not count it as the exclusive wake-up
    }
  }

  /** The watched file's last fd closed: Linux's eventpoll_release drops it from every epoll set. */
  detach(): void {
    this.ep.forget(this);
  }
}

export class Epoll extends KFile {
  readonly kind = 'epoll';
  readonly items = new Map<number, EpItem>();
  /** Items of other epoll sets that watch this one: the links above it. */
  private readonly parents = new Set<EpItem>();
  /** epoll_wait calls asleep on this set and not woken since, oldest first (Linux's ep->wq). */
  private readonly sleepers = new Set<object>();
  private head: EpItem | null = null;
  private tail: EpItem | null = null;

  /** An epoll fd is itself readable when some registered fd is ready (so it can be nested or polled). */
  pollMask(): number {
    for (let it = this.head; it; it = it.next) {
      if (it.file.pollMask() & it.events) return EPOLLIN | EPOLLRDNORM;
    }
    return 0;
  }

  hasSleeper(): boolean {
    return this.sleepers.size > 0;
  }

  /** An epoll_wait call went (back) to sleep on this set, or returned. */
  sleeping(call: object, asleep: boolean): void {
    if (asleep) this.sleepers.add(call);
    else this.sleepers.delete(call);
  }

  enqueue(item: EpItem): void {
    // Linux wakes one epoll_wait sleeper (they wait exclusively) and takes it off the wait queue;
    // it goes back to sleep if its pass finds nothing.
    for (const call of this.sleepers) {
      this.sleepers.delete(call);
      break;
    }
    if (item.onReadyList) return;
    item.onReadyList = true;
    item.prev = this.tail;
    item.next = null;
    if (this.tail) this.tail.next = item;
    else this.head = item;
    this.tail = item;
    this.notify(WAKE_IN); // wakes epoll_wait sleepers and anything watching this epoll fd
  }

  private unlink(item: EpItem): void {
    if (!item.onReadyList) return;
    if (item.prev) item.prev.next = item.next;
    else this.head = item.next;
    if (item.next) item.next.prev = item.prev;
    else this.tail = item.prev;
    item.prev = item.next = null;
    item.onReadyList = false;
  }

  forget(item: EpItem): void {
    this.unlink(item);
    item.file.removeWatcher(item);
    if (item.file instanceof Epoll) item.file.parents.delete(item);
    if (this.items.get(item.fd) === item) this.items.delete(item.fd);
  }

  add(fd: number, file: KFile, events: number, data: unknown): void {
    const item = new EpItem(this, fd, file, events, data);
    this.items.set(fd, item);
    if (file instanceof Epoll) file.parents.add(item);
    file.addWatcher(item);
    if (file.pollMask() & events) this.enqueue(item); // already ready: reported by the next wait
  }

  modify(item: EpItem, events: number, data: unknown): void {
    item.events = events;
    item.data = data;
    // Re-checking readiness here is what lets EPOLL_CTL_MOD re-arm ONESHOT (and re-fire an ET item).
    if (item.file.pollMask() & events) this.enqueue(item);
  }

  /** Takes up to maxevents ready items off the list (ep_send_events); returns [examined, reported]. */
  harvest(out: EpollEvent[], maxevents: number): [number, number] {
    let examined = 0;
    let n = 0;
    const backOnList: EpItem[] = [];
    let item = this.head;
    while (item && n < maxevents) {
      const next = item.next;
      this.unlink(item);
      examined++;
      const revents = item.file.pollMask() & item.events;
      if (revents) {
        out[n++] = { events: revents, data: item.data };
        if (item.events & EPOLLONESHOT) item.events &= EP_PRIVATE_BITS;
        else if (!(item.events & EPOLLET)) backOnList.push(item);
      }
      item = next;
    }
    // Unexamined items stay at the head; reported LT items rejoin at the tail, so a small
    // maxevents still gets round to everyone.
    for (const it of backOnList) this.enqueue(it);
    return [examined, n];
  }

  /**
   * The longest chain of epoll links below this set (0: it watches no epoll set), or LOOP if `target`
   * is among them. Linux's ep_loop_check_proc; `seen` visits a set reachable by several paths once.
   */
  depthBelow(target: Epoll, seen = new Map<Epoll, number>()): number {
    const known = seen.get(this);
    if (known !== undefined) return known;
    let depth = 0;
    for (const it of this.items.values()) {
      if (!(it.file instanceof Epoll)) continue;
      const below = it.file === target ? LOOP : it.file.depthBelow(target, seen);
      if (below === LOOP) return LOOP;
      depth = Math.max(depth, below + 1);
    }
    seen.set(this, depth);
    return depth;
  }

  /** The longest chain of epoll links above this set (0: no epoll set watches it). Linux's ep_get_upwards_depth_proc. */
  depthAbove(seen = new Map<Epoll, number>()): number {
    const known = seen.get(this);
    if (known !== undefined) return known;
    let depth = 0;
    for (const parent of this.parents) depth = Math.max(depth, parent.ep.depthAbove(seen) + 1);
    seen.set(this, depth);
    return depth;
  }

  protected override onRelease(): void {
    for (const item of [...this.items.values()]) this.forget(item);
  }
}

export function epollCreate1(proc: ProcessCore, flags: number): number {
  proc.activity();
  proc.meter.charge('epoll_create1', { calls: 1, fdsInspected: 0, bytesCopied: 0 });
  if (flags & ~EPOLL_CLOEXEC) return -EINVAL;
  return proc.fds.install(new Epoll());
}

export function epollCtl(
  proc: ProcessCore,
  epfd: number,
  op: number,
  fd: number,
  event: EpollEvent | null | undefined,
): number {
  proc.activity();
  proc.meter.charge('epoll_ctl', epollCtlCost(op !== EPOLL_CTL_DEL));
  const hasEvent = op !== EPOLL_CTL_DEL;
  if (hasEvent && !event) return -EFAULT;
  const ep = proc.fds.get(epfd);
  const file = proc.fds.get(fd);
  if (!ep || !file) return -EBADF;
  if (!file.pollable) return -EPERM; // Linux: the target has no poll method (e.g. a regular file)
  if (ep === file || !(ep instanceof Epoll)) return -EINVAL;
  if (op !== EPOLL_CTL_ADD && op !== EPOLL_CTL_MOD && op !== EPOLL_CTL_DEL) return -EINVAL;
  const requested = hasEvent ? event!.events : 0;
  if (requested & EPOLLEXCLUSIVE) {
    if (op === EPOLL_CTL_MOD) return -EINVAL;
    if (requested & ~EPOLLEXCLUSIVE_OK_BITS || file instanceof Epoll) return -EINVAL; // e.g. with ONESHOT or RDHUP
  }
  // EPOLLERR and EPOLLHUP are always watched, whether asked for or not.
  const events = (requested | EPOLLERR | EPOLLHUP) >>> 0;
  const item = ep.items.get(fd);
  switch (op) {
    case EPOLL_CTL_ADD: {
      if (file instanceof Epoll) {
        // A cycle, or a chain longer than EP_MAX_NESTS links: the new link plus the longest chain
        // below the added set plus the longest chain above the set it joins.
        const below = file.depthBelow(ep);
        if (below === LOOP || below + 1 + ep.depthAbove() > EP_MAX_NESTS) return -ELOOP;
      }
      if (item) return -EEXIST;
      ep.add(fd, file, events, event!.data);
      return 0;
    }
    case EPOLL_CTL_MOD:
      if (!item) return -ENOENT;
      if (item.events & EPOLLEXCLUSIVE) return -EINVAL;
      ep.modify(item, events, event!.data);
      return 0;
    default:
      if (!item) return -ENOENT;
      ep.forget(item);
      return 0;
  }
}

export async function epollWait(
  proc: ProcessCore,
  epfd: number,
  out: EpollEvent[],
  maxevents: number,
  timeoutMs: number | null,
): Promise<number> {
  proc.activity();
  const fail = (errno: number) => {
    proc.meter.charge('epoll_wait', epollWaitCost(0, 0));
    return -errno;
  };
  if (!Number.isInteger(maxevents) || maxevents <= 0 || maxevents > EP_MAX_EVENTS) return fail(EINVAL);
  const ep = proc.fds.get(epfd);
  if (!ep) return fail(EBADF);
  if (!(ep instanceof Epoll)) return fail(EINVAL);
  const timeout = timeoutMs === null || timeoutMs < 0 ? null : timeoutMs; // -1 = forever
  let firstPass = true;
  const call = {};
  return sleepUntilReady({
    asleep: (sleeping) => ep.sleeping(call, sleeping),
    clock: proc.clock,
    onActivity: () => proc.activity(),
    timeoutMs: timeout,
    pass: () => {
      const [examined, n] = ep.harvest(out, maxevents);
      const cost = epollWaitCost(examined, n);
      if (!firstPass) cost.calls = 0;
      firstPass = false;
      proc.meter.charge('epoll_wait', cost);
      return n > 0 ? n : null;
    },
    empty: () => 0,
    files: () => [ep],
  });
}
