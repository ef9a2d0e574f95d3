// A process: an fd table, a cost meter and the syscall surface. Each method is a thin shim that
// finds the file behind an fd, charges the meter and hands over to the mechanism's own module
// (socket.ts, select.ts, poll.ts, epoll.ts, kqueue.ts) — one file per mechanism.
import type { Clock } from './clock.ts';
import {
  EAGAIN, EBADF, ECONNREFUSED, EINPROGRESS, EINVAL, EMFILE, ENOTSOCK, EOPNOTSUPP, F_GETFL, F_SETFL, O_NONBLOCK,
  O_RDWR, RLIMIT_NOFILE, SOCK_NONBLOCK, SOL_SOCKET, SO_ERROR, SO_LINGER,
} from './constants.ts';
import type { ProcessCore } from './core.ts';
import { epollCreate1, epollCtl, epollWait, type EpollEvent } from './epoll.ts';
import { WouldBlockError } from './errors.ts';
import { FdTable, type Rlimit } from './fd-table.ts';
import type { FdSet } from './fdset.ts';
import { KFile, StdStream } from './file.ts';
import { Kqueue, kevent, kqueueCreate, type KEvent } from './kqueue.ts';
import { Meter } from './meter.ts';
import { poll, type PollFd } from './poll.ts';
import { select } from './select.ts';
import { Socket, type Net } from './socket.ts';
import { sleepUntilReady } from './wait.ts';

/** What a process needs from its kernel. */
export interface Host extends Net {
  readonly clock: Clock;
  readonly sndbuf: number;
  readonly rcvbuf: number;
  activity(): void;
}

const DATA_CALL = { fdsInspected: 0 } as const;

export class Process implements ProcessCore {
  readonly fds: FdTable;
  readonly meter = new Meter();
  /** Blocking-mode data calls: they wait (asynchronously) instead of returning -EAGAIN. */
  readonly blocking: BlockingCalls;
  private kqueues: Kqueue[] | null = null;

  constructor(
    private readonly host: Host,
    readonly pid: number,
    nofile: Rlimit,
  ) {
    this.fds = new FdTable(nofile);
    // fds 0, 1, 2 are the standard streams, already open when a process starts.
    const std = new StdStream();
    for (let i = 0; i < 3; i++) this.fds.install(std);
    this.blocking = new BlockingCalls(this);
  }

  get clock(): Clock {
    return this.host.clock;
  }

  activity(): void {
    this.host.activity();
  }

  private count(call: string, bytes = 0): void {
    this.host.activity();
    this.meter.charge(call, { calls: 1, ...DATA_CALL, bytesCopied: bytes });
  }

  /** The socket behind fd, or the errno to return (-EBADF, -ENOTSOCK). */
  private sock(fd: number): Socket | number {
    const f = this.fds.get(fd);
    if (!f) return -EBADF;
    return f instanceof Socket ? f : -ENOTSOCK;
  }

  // --- fds and limits ------------------------------------------------------------------------------

  getrlimit(resource: number): Rlimit {
    if (resource !== RLIMIT_NOFILE) throw new RangeError('the emulator models RLIMIT_NOFILE only');
    return { ...this.fds.limit };
  }

  setrlimit(resource: number, limit: Rlimit): number {
    this.count('setrlimit');
    if (resource !== RLIMIT_NOFILE) return -EINVAL;
    return this.fds.setLimit(limit);
  }

  openFds(): number[] {
    return this.fds.list();
  }

  close(fd: number): number {
    this.count('close');
    const file = this.fds.remove(fd);
    if (typeof file === 'number') return file;
    if (this.kqueues) for (const kq of this.kqueues) kq.fdClosed(fd);
    if (file instanceof Kqueue) this.kqueues = this.kqueues?.filter((k) => k !== file) ?? null;
    if (file.refs === 0) file.release();
    return 0;
  }

  /** A second fd for the same open file (the epoll "closed but still reported" trap needs it). */
  dup(fd: number): number {
    this.count('dup');
    const file = this.fds.get(fd);
    return file ? this.fds.install(file) : -EBADF;
  }

  fcntl(fd: number, cmd: number, arg = 0): number {
    this.count('fcntl');
    const file = this.fds.get(fd);
    if (!file) return -EBADF;
    if (cmd === F_GETFL) return O_RDWR | file.flags;
    if (cmd === F_SETFL) {
      file.flags = arg & O_NONBLOCK;
      return 0;
    }
    return -EINVAL;
  }

  // --- sockets -------------------------------------------------------------------------------------

  socket(flags = 0): number {
    this.count('socket');
    if (flags & ~SOCK_NONBLOCK) return -EINVAL;
    const s = new Socket(this.host, this.host.sndbuf, this.host.rcvbuf);
    s.flags = flags & O_NONBLOCK;
    return this.fds.install(s);
  }

  bind(fd: number, port: number): number {
    this.count('bind');
    const s = this.sock(fd);
    return typeof s === 'number' ? s : s.bind(port);
  }

  listen(fd: number, backlog: number): number {
    this.count('listen');
    const s = this.sock(fd);
    return typeof s === 'number' ? s : s.listen(backlog);
  }

  accept(fd: number): number {
    return this.accept4(fd, 0);
  }

  accept4(fd: number, flags: number): number {
    const r = this.tryAccept(fd, flags);
    if (r === -EAGAIN) this.refuseToBlock('accept', fd);
    return r;
  }

  /** Non-blocking connect returns -EINPROGRESS; the outcome is seen as POLLOUT (or POLLERR + SO_ERROR). */
  connect(fd: number, port: number): number {
    this.count('connect');
    const s = this.sock(fd);
    if (typeof s === 'number') return s;
    const r = s.connect(port);
    if (r === -EINPROGRESS && !(s.flags & O_NONBLOCK)) {
      // A blocking connect on loopback completes (or fails) at once, unless the backlog is full.
      if (s.state === 'established') return 0;
      if (s.state === 'closed') return -s.takeError();
      throw new WouldBlockError('connect', fd);
    }
    return r;
  }

  read(fd: number, buf: Uint8Array): number {
    const r = this.tryRead(fd, buf);
    if (r === -EAGAIN) this.refuseToBlock('read', fd);
    return r;
  }

  write(fd: number, data: Uint8Array): number {
    const r = this.tryWrite(fd, data);
    if (r === -EAGAIN) this.refuseToBlock('write', fd);
    return r;
  }

  shutdown(fd: number, how: number): number {
    this.count('shutdown');
    const s = this.sock(fd);
    return typeof s === 'number' ? s : s.shutdown(how);
  }

  /** Only SO_ERROR: returns the pending socket error (a positive errno, or 0) and clears it. */
  getsockopt(fd: number, level: number, option: number): number {
    this.count('getsockopt');
    const s = this.sock(fd);
    if (typeof s === 'number') return s;
    if (level !== SOL_SOCKET || option !== SO_ERROR) return -EOPNOTSUPP;
    return s.takeError();
  }

  /** Only SO_LINGER: { onoff: 1, linger: 0 } makes close() send RST instead of FIN. */
  setsockopt(fd: number, level: number, option: number, value: { onoff: number; linger: number }): number {
    this.count('setsockopt');
    const s = this.sock(fd);
    if (typeof s === 'number') return s;
    if (level !== SOL_SOCKET || option !== SO_LINGER) return -EOPNOTSUPP;
    s.lingerZero = value.onoff !== 0 && value.linger === 0;
    return 0;
  }

  // --- the data path without the blocking rule (shared by the sync and async forms) ---------------

  /** @internal */
  tryAccept(fd: number, flags: number): number {
    this.count('accept');
    const s = this.sock(fd);
    if (typeof s === 'number') return s;
    if (flags & ~SOCK_NONBLOCK) return -EINVAL;
    // Linux reserves the fd before dequeuing: at EMFILE the connection stays queued and the
    // listening socket stays readable — the classic accept() busy loop.
    if (!this.fds.hasFreeSlot()) return -EMFILE;
    const child = s.accept();
    if (typeof child === 'number') return child;
    child.flags = flags & O_NONBLOCK;
    return this.fds.install(child);
  }

  /** @internal */
  tryRead(fd: number, buf: Uint8Array): number {
    const f = this.fds.get(fd);
    if (!f) return this.counted('read', -EBADF);
    if (f instanceof StdStream) return this.counted('read', 0);
    if (!(f instanceof Socket)) return this.counted('read', -EINVAL);
    return this.counted('read', f.read(buf));
  }

  /** @internal */
  tryWrite(fd: number, data: Uint8Array): number {
    const f = this.fds.get(fd);
    if (!f) return this.counted('write', -EBADF);
    if (f instanceof StdStream) return this.counted('write', data.length);
    if (!(f instanceof Socket)) return this.counted('write', -EINVAL);
    return this.counted('write', f.write(data));
  }

  private counted(call: string, result: number): number {
    this.count(call, Math.max(0, result));
    return result;
  }

  private refuseToBlock(call: string, fd: number): void {
    const f = this.fds.get(fd);
    if (f && !(f.flags & O_NONBLOCK)) throw new WouldBlockError(call, fd);
  }

  // --- pollers -------------------------------------------------------------------------------------

  select(
    nfds: number,
    readfds: FdSet | null,
    writefds: FdSet | null,
    exceptfds: FdSet | null,
    timeoutMs: number | null,
  ): Promise<number> {
    return select(this, nfds, readfds, writefds, exceptfds, timeoutMs);
  }

  poll(fds: PollFd[], timeoutMs: number | null): Promise<number> {
    return poll(this, fds, timeoutMs);
  }

  epoll_create1(flags = 0): number {
    return epollCreate1(this, flags);
  }

  epoll_ctl(epfd: number, op: number, fd: number, event: EpollEvent | null = null): number {
    return epollCtl(this, epfd, op, fd, event);
  }

  epoll_wait(epfd: number, out: EpollEvent[], maxevents: number, timeoutMs: number | null): Promise<number> {
    return epollWait(this, epfd, out, maxevents, timeoutMs);
  }

  kqueue(): number {
    const fd = kqueueCreate(this);
    if (fd >= 0) (this.kqueues ??= []).push(this.fds.get(fd) as Kqueue);
    return fd;
  }

  kevent(
    kq: number,
    changelist: KEvent[],
    eventlist: KEvent[],
    nevents: number,
    timeoutMs: number | null,
  ): Promise<number> {
    return kevent(this, kq, changelist, eventlist, nevents, timeoutMs);
  }

  /** @internal The file behind an fd (for the network helpers and tests). */
  fileOf(fd: number): KFile | undefined {
    return this.fds.get(fd);
  }
}

/** proc.blocking.*: the data calls as a blocking socket performs them — they wait until they can. */
class BlockingCalls {
  constructor(private readonly proc: Process) {}

  private wait(fd: number, attempt: () => number): Promise<number> {
    const file = this.proc.fds.get(fd);
    return sleepUntilReady({
      clock: this.proc.clock,
      onActivity: () => this.proc.activity(),
      timeoutMs: null,
      pass: () => {
        const r = attempt();
        return r === -EAGAIN ? null : r;
      },
      empty: () => -EAGAIN,
      files: () => (file ? [file] : []),
    });
  }

  accept(fd: number, flags = 0): Promise<number> {
    return this.wait(fd, () => this.proc.tryAccept(fd, flags));
  }

  read(fd: number, buf: Uint8Array): Promise<number> {
    return this.wait(fd, () => this.proc.tryRead(fd, buf));
  }

  /** Like a blocking write(2): returns only when every byte is queued (or an error stops it). */
  async write(fd: number, data: Uint8Array): Promise<number> {
    let done = 0;
    while (done < data.length) {
      const r = await this.wait(fd, () => this.proc.tryWrite(fd, data.subarray(done)));
      if (r < 0) return done > 0 ? done : r;
      done += r;
    }
    return done;
  }

  /** Resolves 0 once connected, or -ECONNREFUSED (…) if the connection failed. */
  connect(fd: number, port: number): Promise<number> {
    const f = this.proc.fds.get(fd);
    const saved = f?.flags ?? 0;
    if (f) f.flags |= O_NONBLOCK;
    const r = this.proc.connect(fd, port);
    if (f) f.flags = saved;
    if (r !== -EINPROGRESS) return Promise.resolve(r);
    const s = f as Socket;
    return this.wait(fd, () => {
      if (s.state === 'established') return 0;
      if (s.state === 'closed') return -(s.takeError() || ECONNREFUSED);
      return -EAGAIN;
    });
  }
}

