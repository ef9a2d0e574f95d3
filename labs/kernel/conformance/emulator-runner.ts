// Plays conformance scenarios on the emulated kernel, step for step as linux_runner.py plays them
// on real sockets, and returns the same observable results (errno names, event-bit names, ready
// sockets by their scenario names).
import { Kernel } from '../kernel.ts';
import type { Process } from '../process.ts';
import * as K from '../index.ts';
import type { Scenario, Step, StepResult } from './scenario.ts';

const POLL_BITS: Record<string, number> = {
  IN: K.POLLIN, OUT: K.POLLOUT, ERR: K.POLLERR, HUP: K.POLLHUP, NVAL: K.POLLNVAL, RDHUP: K.POLLRDHUP,
};
const EPOLL_BITS: Record<string, number> = {
  IN: K.EPOLLIN, OUT: K.EPOLLOUT, ERR: K.EPOLLERR, HUP: K.EPOLLHUP, RDHUP: K.EPOLLRDHUP,
  ET: K.EPOLLET, ONESHOT: K.EPOLLONESHOT, EXCLUSIVE: K.EPOLLEXCLUSIVE,
};
/** How long an epoll_wait_async sleeps at most; every scenario wakes its waiters well before. */
const ASYNC_WAIT_MS = 3000;
const EV_FLAGS: Record<string, number> = {
  ADD: K.EV_ADD, DELETE: K.EV_DELETE, ENABLE: K.EV_ENABLE, DISABLE: K.EV_DISABLE, ONESHOT: K.EV_ONESHOT,
  CLEAR: K.EV_CLEAR, RECEIPT: K.EV_RECEIPT, EOF: K.EV_EOF, ERROR: K.EV_ERROR,
};
const FILTERS: Record<string, number> = { READ: K.EVFILT_READ, WRITE: K.EVFILT_WRITE };
const REPORTED = ['IN', 'OUT', 'ERR', 'HUP', 'NVAL', 'RDHUP'];
const SHUT: Record<string, number> = { RD: K.SHUT_RD, WR: K.SHUT_WR, RDWR: K.SHUT_RDWR };

function bitNames(mask: number): string[] {
  return REPORTED.filter((n) => mask & POLL_BITS[n]!);
}

function maskOf(names: string[] | undefined, table: Record<string, number>): number {
  return (names ?? []).reduce((m, n) => (m | table[n]!) >>> 0, 0);
}

/** A result the way the Python side prints it: numbers ≥ 0 as is, errors by name. */
function res(r: number): StepResult {
  return r < 0 ? K.errnoName(r) : r;
}

class Player {
  readonly kernel = new Kernel({ clock: 'virtual', seed: 1 });
  readonly proc: Process = this.kernel.spawn();
  private readonly fd = new Map<string, number>();
  private readonly ports = new Map<string, number>();
  /** epoll_wait calls left sleeping by epoll_wait_async: 'asleep' until they return. */
  private readonly waits = new Map<string, StepResult>();
  private nextPort = 20000;

  private f(name: string): number {
    const fd = this.fd.get(name);
    if (fd === undefined) throw new Error(`scenario names an unknown socket '${name}'`);
    return fd;
  }

  private nameOf(fd: number): string {
    let found = `fd${fd}`;
    for (const [n, f] of this.fd) if (f === fd) found = n;
    return found;
  }

  async step(s: Step): Promise<StepResult> {
    const p = this.proc;
    switch (s.op) {
      case 'socket': {
        this.fd.set(s.as!, p.socket(K.SOCK_NONBLOCK));
        return 'ok';
      }
      case 'listen': {
        const fd = p.socket(K.SOCK_NONBLOCK);
        const port = this.nextPort++;
        p.bind(fd, port);
        p.listen(fd, s.backlog ?? 128);
        this.fd.set(s.as!, fd);
        this.ports.set(s.as!, port);
        return 'ok';
      }
      case 'connect': {
        const fd = p.socket(s.blocking ? 0 : K.SOCK_NONBLOCK);
        this.fd.set(s.as!, fd);
        const port = s.to === 'nowhere' ? 1 : this.ports.get(s.to!)!;
        const r = p.connect(fd, port);
        p.fcntl(fd, K.F_SETFL, K.O_NONBLOCK);
        return res(r);
      }
      case 'accept': {
        const r = p.accept4(this.f(s.from!), K.SOCK_NONBLOCK);
        if (r < 0) return res(r);
        this.fd.set(s.as!, r);
        return 'ok';
      }
      case 'write':
        return res(p.write(this.f(s.fd!), new Uint8Array(s.n!).fill(120)));
      case 'fill': {
        const chunk = new Uint8Array(65536);
        for (let i = 0; i < 100_000; i++) {
          const r = p.write(this.f(s.fd!), chunk);
          if (r === -K.EAGAIN) return 'EAGAIN';
          if (r < 0) return res(r);
        }
        return 'never filled';
      }
      case 'read':
        return res(p.read(this.f(s.fd!), new Uint8Array(s.max!)));
      case 'drain': {
        const buf = new Uint8Array(1 << 20);
        for (let i = 0; i < 100_000; i++) {
          const r = p.read(this.f(s.fd!), buf);
          if (r === 0) return 0;
          if (r === -K.EAGAIN) return 'EAGAIN';
          if (r < 0) return res(r);
        }
        return 'never drained';
      }
      case 'shutdown':
        return res(p.shutdown(this.f(s.fd!), SHUT[s.how!]!));
      case 'close':
        return res(p.close(this.f(s.fd!)));
      case 'reset': {
        p.setsockopt(this.f(s.fd!), K.SOL_SOCKET, K.SO_LINGER, { onoff: 1, linger: 0 });
        return res(p.close(this.f(s.fd!)));
      }
      case 'dup': {
        const r = p.dup(this.f(s.fd!));
        if (r < 0) return res(r);
        this.fd.set(s.as!, r);
        return 'ok';
      }
      case 'fdeq':
        return this.f(s.a!) === this.f(s.b!) ? 'equal' : 'different';
      case 'so_error': {
        const e = p.getsockopt(this.f(s.fd!), K.SOL_SOCKET, K.SO_ERROR);
        return e > 0 ? K.errnoName(e) : res(e);
      }
      case 'poll': {
        const events = maskOf(s.events, POLL_BITS);
        const fds = s.fds!.map((n) => ({ fd: this.f(n), events, revents: 0 }));
        const r = await p.poll(fds, 0);
        if (r < 0) return res(r);
        return Object.fromEntries(s.fds!.map((n, i) => [n, bitNames(fds[i]!.revents)]));
      }
      case 'select': {
        const r = new K.FdSet();
        const w = new K.FdSet();
        const all = [...(s.read ?? []), ...(s.write ?? [])].map((n) => this.f(n));
        for (const n of s.read ?? []) K.FD_SET(this.f(n), r);
        for (const n of s.write ?? []) K.FD_SET(this.f(n), w);
        const n = await p.select(Math.max(...all) + 1, r, w, null, 0);
        if (n < 0) return res(n);
        const pick = (names: string[] | undefined, set: K.FdSet) =>
          (names ?? []).filter((x) => K.FD_ISSET(this.f(x), set)).sort((a, b) => this.f(a) - this.f(b));
        return { n, read: pick(s.read, r), write: pick(s.write, w) };
      }
      case 'select_high': {
        p.setrlimit(K.RLIMIT_NOFILE, { soft: 2048, hard: p.getrlimit(K.RLIMIT_NOFILE).hard });
        const extra: number[] = [];
        let high = -1;
        while (high < 1024) extra.push((high = p.dup(this.f(s.fd!))));
        try {
          const set = new K.FdSet();
          K.FD_SET(high, set);
          await p.select(high + 1, set, null, null, 0);
          return 'accepted';
        } catch (e) {
          if (e instanceof K.FortifyAbort) return 'refused: fd out of range';
          throw e;
        } finally {
          for (const fd of extra) p.close(fd);
        }
      }
      case 'epoll_create': {
        this.fd.set(s.as!, p.epoll_create1(0));
        return 'ok';
      }
      case 'epoll_ctl': {
        const op = { ADD: K.EPOLL_CTL_ADD, MOD: K.EPOLL_CTL_MOD, DEL: K.EPOLL_CTL_DEL }[s.op2!]!;
        return res(p.epoll_ctl(this.f(s.ep!), op, this.f(s.fd!), { events: maskOf(s.events, EPOLL_BITS), data: s.fd }));
      }
      case 'epoll_wait': {
        const out: K.EpollEvent[] = [];
        const n = await p.epoll_wait(this.f(s.ep!), out, s.max!, 0);
        if (n < 0) return res(n);
        return out.slice(0, n).map((e) => [e.data as string, bitNames(e.events)]);
      }
      case 'epoll_wait_async': {
        // A thread that sleeps in epoll_wait while the scenario goes on.
        const out: K.EpollEvent[] = [];
        const name = s.as!;
        this.waits.set(name, 'asleep');
        void p.epoll_wait(this.f(s.ep!), out, s.max!, ASYNC_WAIT_MS).then((n) => {
          this.waits.set(name, n < 0 ? res(n) : out.slice(0, n).map((e) => [e.data as string, bitNames(e.events)]));
        });
        await this.kernel.settle();
        return 'started';
      }
      case 'woken': {
        await this.kernel.settle();
        return Object.fromEntries(s.waits!.map((w) => [w, this.waits.get(w) ?? 'never started']));
      }
      case 'kqueue': {
        this.fd.set(s.as!, p.kqueue());
        return 'ok';
      }
      case 'kevent': {
        const changes = (s.changes ?? []).map((c) => ({
          ident: this.f(c.fd), filter: FILTERS[c.filter]!, flags: maskOf(c.flags, EV_FLAGS), fflags: 0, data: 0, udata: c.fd,
        }));
        const out: K.KEvent[] = [];
        const n = await p.kevent(this.f(s.kq!), changes, out, s.nevents ?? 8, 0);
        if (n < 0) return res(n);
        return out.slice(0, n).map((e) => {
          const flags = Object.keys(EV_FLAGS).filter((k) => e.flags & EV_FLAGS[k]!);
          const filter = e.filter === K.EVFILT_READ ? 'READ' : 'WRITE';
          const row: Record<string, StepResult> = { fd: this.nameOf(e.ident), filter, flags };
          if (e.flags & K.EV_ERROR) row.data = e.data === 0 ? 0 : K.errnoName(e.data);
          else if (e.filter === K.EVFILT_READ) row.data = e.data;
          return row;
        });
      }
      default:
        throw new Error(`unknown scenario op '${s.op}'`);
    }
  }
}

/** Plays every scenario; returns {name: [step results]}. */
export async function runOnEmulator(scenarios: Scenario[]): Promise<Record<string, StepResult[]>> {
  const out: Record<string, StepResult[]> = {};
  for (const sc of scenarios) {
    const pl = new Player();
    const results: StepResult[] = [];
    for (const st of sc.steps) results.push(await pl.step(st));
    out[sc.name] = results;
  }
  return out;
}
