// kqueue(2) as FreeBSD describes it. A knote is identified by (ident, filter); like an EpItem it
// hangs on its socket's wait queue and queues itself when its filter becomes true, so kevent()'s
// work is O(changes + active). Unlike epoll, changes and the wait are one call, each returned event
// carries `data` (bytes readable / space writable), and errors in the changelist can come back as
// EV_ERROR events.
import {
  EBADF, EINVAL, ENODEV, ENOENT, EVFILT_READ, EVFILT_WRITE, EV_ADD, EV_CLEAR, EV_DELETE, EV_DISABLE,
  EV_DISPATCH, EV_ENABLE, EV_EOF, EV_ERROR, EV_ONESHOT, EV_RECEIPT, POLLIN, POLLRDNORM,
} from './constants.ts';
import { keventCost } from './cost-model.ts';
import type { ProcessCore } from './core.ts';
import { KFile, WAKE_IN, WAKE_OUT, WAKE_SPACE, type Watcher } from './file.ts';
import { Socket } from './socket.ts';
import { sleepUntilReady } from './wait.ts';

export interface KEvent {
  ident: number;
  filter: number;
  flags: number;
  fflags: number;
  data: number;
  udata: unknown;
}

/** FreeBSD's default send low-water mark: EVFILT_WRITE fires when at least this much space is free. */
const SEND_LOWAT = 2048;
/** Flags that are actions, not properties of the knote: not kept, not returned. */
const ACTION_FLAGS = EV_ADD | EV_DELETE | EV_ENABLE | EV_DISABLE | EV_RECEIPT;

interface FilterState {
  active: boolean;
  data: number;
  eof: boolean;
  fflags: number;
}

class Knote implements Watcher {
  prev: Knote | null = null;
  next: Knote | null = null;
  queued = false;
  enabled = true;

  constructor(
    readonly kq: Kqueue,
    readonly ident: number,
    readonly filter: number,
    readonly socket: Socket,
    public flags: number,
    public udata: unknown,
  ) {}

  /** FreeBSD's filt_soread / filt_solisten / filt_sowrite. */
  evaluate(): FilterState {
    const so = this.socket;
    if (this.filter === EVFILT_READ) {
      if (so.state === 'listen') {
        const pending = so.pendingConnections;
        return { active: pending > 0 || so.spuriousIn, data: pending, eof: false, fflags: 0 };
      }
      const data = so.bytesReadable;
      const eof = so.readShut;
      return { active: eof || so.err !== 0 || data >= 1 || so.spuriousIn, data, eof, fflags: eof ? so.err : 0 };
    }
    if (so.state === 'listen') return { active: false, data: 0, eof: false, fflags: 0 };
    const data = so.sendSpace;
    const eof = so.writeShut;
    const connected = so.state === 'established';
    const lowat = Math.min(SEND_LOWAT, so.sndbuf);
    return { active: eof || so.err !== 0 || (connected && data >= lowat), data, eof, fflags: eof ? so.err : 0 };
  }

  wake(key: number): void {
    if (!this.enabled) return;
    const relevant = this.filter === EVFILT_READ ? WAKE_IN : WAKE_OUT | WAKE_SPACE;
    if (key && !(key & relevant)) return;
    if (this.evaluate().active) this.kq.enqueue(this);
  }

  detach(): void {
    this.kq.drop(this);
  }
}

export class Kqueue extends KFile {
  readonly kind = 'kqueue';
  private knotes = new Map<string, Knote>();
  private head: Knote | null = null;
  private tail: Knote | null = null;

  pollMask(): number {
    return this.head ? POLLIN | POLLRDNORM : 0;
  }

  enqueue(kn: Knote): void {
    if (kn.queued) return;
    kn.queued = true;
    kn.prev = this.tail;
    kn.next = null;
    if (this.tail) this.tail.next = kn;
    else this.head = kn;
    this.tail = kn;
    this.notify(WAKE_IN);
  }

  private dequeue(kn: Knote): void {
    if (!kn.queued) return;
    if (kn.prev) kn.prev.next = kn.next;
    else this.head = kn.next;
    if (kn.next) kn.next.prev = kn.prev;
    else this.tail = kn.prev;
    kn.prev = kn.next = null;
    kn.queued = false;
  }

  drop(kn: Knote): void {
    this.dequeue(kn);
    kn.socket.removeWatcher(kn);
    this.knotes.delete(key(kn.ident, kn.filter));
  }

  /** close(fd) removes every knote for that descriptor (FreeBSD knote_fdclose), even if dup'ed. */
  fdClosed(fd: number): void {
    for (const filter of [EVFILT_READ, EVFILT_WRITE]) {
      const kn = this.knotes.get(key(fd, filter));
      if (kn) this.drop(kn);
    }
  }

  /** Applies one change (kqueue_register); returns 0 or an errno. */
  apply(proc: ProcessCore, ch: KEvent): number {
    if (ch.filter !== EVFILT_READ && ch.filter !== EVFILT_WRITE) return EINVAL;
    const file = proc.fds.get(ch.ident);
    if (!file) return EBADF;
    let kn = this.knotes.get(key(ch.ident, ch.filter));
    if (!kn) {
      if (!(ch.flags & EV_ADD)) return ENOENT;
      if (!(file instanceof Socket)) return ENODEV; // the emulator only has socket filters
      kn = new Knote(this, ch.ident, ch.filter, file, 0, ch.udata);
      this.knotes.set(key(ch.ident, ch.filter), kn);
      file.addWatcher(kn);
    }
    if (ch.flags & EV_DELETE) {
      this.drop(kn);
      return 0;
    }
    if (ch.flags & EV_ADD) {
      kn.flags = ch.flags & ~ACTION_FLAGS;
      kn.udata = ch.udata;
    }
    if (ch.flags & EV_DISABLE) {
      kn.enabled = false;
      this.dequeue(kn);
    }
    if (ch.flags & EV_ENABLE) kn.enabled = true;
    if (kn.enabled && kn.evaluate().active) this.enqueue(kn);
    return 0;
  }

  /** Copies out up to `max` active knotes (kqueue_scan); returns [examined, reported]. */
  harvest(out: KEvent[], offset: number, max: number): [number, number] {
    let examined = 0;
    let n = 0;
    const requeue: Knote[] = [];
    let kn = this.head;
    while (kn && n < max) {
      const next = kn.next;
      this.dequeue(kn);
      examined++;
      const oneshot = (kn.flags & EV_ONESHOT) !== 0;
      const st = kn.evaluate();
      if (kn.enabled && (st.active || oneshot)) {
        out[offset + n++] = {
          ident: kn.ident,
          filter: kn.filter,
          flags: kn.flags | (st.eof ? EV_EOF : 0),
          fflags: st.fflags,
          data: st.data,
          udata: kn.udata,
        };
        if (oneshot) this.drop(kn);
        else if (kn.flags & EV_DISPATCH) kn.enabled = false;
        else if (!(kn.flags & EV_CLEAR)) requeue.push(kn); // level-triggered: checked again next time
      }
      kn = next;
    }
    for (const k of requeue) this.enqueue(k);
    return [examined, n];
  }

  protected override onRelease(): void {
    for (const kn of [...this.knotes.values()]) this.drop(kn);
  }
}

function key(ident: number, filter: number): string {
  return `${ident}/${filter}`;
}

export function kqueueCreate(proc: ProcessCore): number {
  proc.activity();
  proc.meter.charge('kqueue', { calls: 1, fdsInspected: 0, bytesCopied: 0 });
  return proc.fds.install(new Kqueue());
}

export async function kevent(
  proc: ProcessCore,
  kq: number,
  changelist: KEvent[],
  eventlist: KEvent[],
  nevents: number,
  timeoutMs: number | null,
): Promise<number> {
  proc.activity();
  const file = proc.fds.get(kq);
  if (!(file instanceof Kqueue)) {
    proc.meter.charge('kevent', keventCost(0, 0, 0));
    return -EBADF;
  }
  if (!Number.isInteger(nevents) || nevents < 0) return -EINVAL;
  if (timeoutMs !== null && !(timeoutMs >= 0)) return -EINVAL;
  // Apply the changelist first. A failed change goes into the eventlist as EV_ERROR with
  // data = errno while there is room; with no room left, kevent fails with that errno.
  let nerrors = 0;
  let applied = 0;
  for (const ch of changelist) {
    applied++;
    const errno = file.apply(proc, ch);
    if ((errno !== 0 || ch.flags & EV_RECEIPT) && nerrors < nevents) {
      eventlist[nerrors++] = { ...ch, flags: EV_ERROR, data: errno };
    } else if (errno !== 0) {
      proc.meter.charge('kevent', keventCost(applied, 0, nerrors));
      return -errno;
    }
  }
  if (nerrors > 0 || nevents === 0) {
    proc.meter.charge('kevent', keventCost(applied, 0, nerrors));
    return nerrors;
  }
  let firstPass = true;
  return sleepUntilReady({
    clock: proc.clock,
    onActivity: () => proc.activity(),
    timeoutMs,
    pass: () => {
      const [examined, n] = file.harvest(eventlist, 0, nevents);
      const cost = keventCost(firstPass ? applied : 0, examined, n);
      if (!firstPass) cost.calls = 0;
      firstPass = false;
      proc.meter.charge('kevent', cost);
      return n > 0 ? n : null;
    },
    empty: () => 0,
    files: () => [file],
  });
}
