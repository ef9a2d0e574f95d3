// The emulated kernel: one host with its clock, its port table and its processes. Also where
// graders control time: settle() lets everything runnable run, advance() moves virtual time,
// until() waits for a condition without ever depending on the wall clock in virtual mode.
import { Clock } from './clock.ts';
import type { Rlimit } from './fd-table.ts';
import { SimClient, type ClientOptions } from './net/client.ts';
import { Process, type Host } from './process.ts';
import type { Socket } from './socket.ts';
import { WAKE_IN } from './file.ts';

export interface KernelOptions {
  clock?: 'virtual' | 'real';
  /** Seeds the simulated clients' random choices (chunk sizes, read sizes), so a failure replays. */
  seed?: number;
  /** Per-socket send buffer (bytes). */
  sndbuf?: number;
  /** Per-socket receive buffer (bytes). */
  rcvbuf?: number;
}

export interface SpawnOptions {
  nofile?: Rlimit;
}

export interface UntilOptions {
  timeoutMs?: number;
  what?: string;
}

export const DEFAULT_SNDBUF = 16 * 1024;
export const DEFAULT_RCVBUF = 64 * 1024;
export const DEFAULT_NOFILE: Rlimit = { soft: 1024, hard: 1_048_576 };
/** How many event-loop turns settle() allows before calling the system busy. */
const SETTLE_TURN_LIMIT = 20_000;

export class Kernel implements Host {
  readonly clock: Clock;
  readonly seed: number;
  readonly sndbuf: number;
  readonly rcvbuf: number;
  readonly ports = new Map<number, Socket>();
  private nextPort = 32768;
  private nextPid = 100;
  private activityCount = 0;

  constructor(opts: KernelOptions = {}) {
    this.clock = new Clock(opts.clock ?? 'virtual');
    this.seed = opts.seed ?? 1;
    this.sndbuf = opts.sndbuf ?? DEFAULT_SNDBUF;
    this.rcvbuf = opts.rcvbuf ?? DEFAULT_RCVBUF;
  }

  spawn(opts: SpawnOptions = {}): Process {
    return new Process(this, this.nextPid++, opts.nofile ?? DEFAULT_NOFILE);
  }

  /** A simulated client connecting to `port` on this host (see net/client.ts). */
  client(port: number, opts: ClientOptions = {}): SimClient {
    return new SimClient(this, port, opts);
  }

  now(): number {
    return this.clock.now();
  }

  /**
   * Graders only: the socket behind `fd` in `proc` is reported readable (select, poll, epoll — also
   * edge-triggered, as a new wake-up — and kqueue's EVFILT_READ) although nothing new arrived, and
   * the next read() or accept() answers what it really has: -EAGAIN if nothing. Linux's select(2)
   * documents this under BUGS (data dropped after the wake-up; another reader of a shared socket).
   * Returns false when `fd` is not an open socket.
   */
  spuriousReadable(proc: Process, fd: number): boolean {
    const file = proc.fds.get(fd);
    if (file?.kind !== 'socket') return false;
    const socket = file as Socket;
    socket.spuriousIn = true;
    socket.notify(WAKE_IN);
    this.activity();
    return true;
  }

  /** @internal Every syscall and wake-up calls this, so settle() can tell "busy" from "stuck". */
  activity(): void {
    this.activityCount++;
  }

  /** @internal Local ports for connecting sockets (Linux's ip_local_port_range starts at 32768). */
  nextEphemeralPort(): number {
    for (let i = 0; i < 65536; i++) {
      const p = this.nextPort;
      this.nextPort = this.nextPort >= 60999 ? 32768 : this.nextPort + 1;
      if (!this.ports.has(p)) return p;
    }
    throw new Error('no free ephemeral port');
  }

  /** @internal Seed for the next simulated client that does not bring its own. */
  nextClientSeed(): number {
    return (this.seed * 7919 + this.clientCount++) >>> 0;
  }
  private clientCount = 0;

  /**
   * Lets every runnable piece (servers awaiting a poller, simulated clients) run until nothing
   * changes for two consecutive event-loop turns. Time does not pass. Throws if the system is
   * still busy after many turns (e.g. a loop calling epoll_wait with timeout 0 forever).
   */
  async settle(): Promise<void> {
    let quiet = 0;
    for (let turn = 0; turn < SETTLE_TURN_LIMIT; turn++) {
      const before = this.activityCount;
      await new Promise<void>((r) => setImmediate(r));
      if (this.activityCount === before) {
        if (++quiet >= 2) return;
      } else {
        quiet = 0;
      }
    }
    throw new Error(
      `settle(): still busy after ${SETTLE_TURN_LIMIT} event-loop turns — is something spinning ` +
        `(a poll/epoll_wait/select with timeout 0 in a loop that never sleeps)?`,
    );
  }

  /** Virtual clock: moves time forward by ms, firing each timer at its time, settling in between. */
  async advance(ms: number): Promise<void> {
    if (this.clock.mode === 'real') {
      await new Promise((r) => setTimeout(r, ms));
      return;
    }
    const target = this.clock.now() + ms;
    await this.settle();
    while (this.clock.fireNext(target)) await this.settle();
    this.clock.moveTo(target);
    await this.settle();
  }

  /**
   * Waits until cond() holds, at most timeoutMs of kernel time. Virtual clock: settles, then jumps
   * straight to the next timer while the condition is false; if nothing is pending at all, no
   * amount of waiting can help, and it says so at once. Rejects with a message naming `what`.
   */
  async until(cond: () => boolean, opts: UntilOptions = {}): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? 5000;
    const what = opts.what ?? 'the condition';
    const start = this.clock.now();
    const deadline = start + timeoutMs;
    if (this.clock.mode === 'real') {
      while (!cond()) {
        if (this.clock.now() >= deadline) throw new Error(`until: ${what} did not happen within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 1));
      }
      return;
    }
    for (;;) {
      await this.settle();
      if (cond()) return;
      const next = this.clock.nextTimerAt();
      if (next === undefined) {
        throw new Error(
          `until: ${what} did not happen, and nothing else can: every process is blocked with no ` +
            `timeout pending (virtual time ${this.clock.now()} ms)`,
        );
      }
      if (next > deadline) {
        this.clock.moveTo(deadline);
        await this.settle();
        if (cond()) return;
        throw new Error(`until: ${what} did not happen within ${timeoutMs} ms of virtual time`);
      }
      this.clock.fireNext(deadline);
    }
  }
}

