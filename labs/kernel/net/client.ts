// A simulated client: a socket in its own process on the emulated host, driven by the kernel's
// wake-ups the way a small event-driven program would be. It connects, writes what it is asked to
// send (in randomly sized pieces, from a seeded generator), reads whatever arrives and keeps it.
// Hostile variants: 'never-reads' (fills the server's send buffer: backpressure becomes real),
// 'drip' (one byte per millisecond of kernel time), 'reset-mid-write' (sends half, then RST).
import { encodeFrame, FrameDecoder, type Frame } from '../../../server/protocol/frame.ts';
import { ByteQueue } from '../byte-queue.ts';
import type { Timer } from '../clock.ts';
import {
  EAGAIN, errnoName, SHUT_WR, SOCK_NONBLOCK, SOL_SOCKET, SO_LINGER,
} from '../constants.ts';
import type { Watcher } from '../file.ts';
import type { Kernel } from '../kernel.ts';
import type { Process } from '../process.ts';
import type { Socket } from '../socket.ts';
import { between, mulberry32 } from './rng.ts';

export type Hostility = 'never-reads' | 'drip' | 'reset-mid-write';

export interface ClientOptions {
  seed?: number;
  hostile?: Hostility;
}

export class SimClient {
  readonly proc: Process;
  readonly fd: number;
  /** True once the connection was accepted into the server's backlog (stays true). */
  connected = false;
  /** Set when the connection failed or was reset: 'ECONNREFUSED', 'ECONNRESET', 'EPIPE'. */
  error: string | null = null;
  private readonly socket: Socket;
  private readonly rand: () => number;
  private readonly outbox = new ByteQueue();
  private buf = new Uint8Array(256);
  private size = 0;
  private eof = false;
  private closedLocally = false;
  private afterDrain: 'shutdown' | 'close' | null = null;
  private scheduled = false;
  private dripTimer: Timer | null = null;
  private hasReset = false;

  constructor(
    private readonly kernel: Kernel,
    readonly port: number,
    readonly opts: ClientOptions = {},
  ) {
    this.rand = mulberry32(opts.seed ?? kernel.nextClientSeed());
    this.proc = kernel.spawn({ nofile: { soft: 8, hard: 8 } });
    this.fd = this.proc.socket(SOCK_NONBLOCK);
    this.socket = this.proc.fileOf(this.fd) as Socket;
    const watcher: Watcher = { wake: () => this.schedule(), detach: () => {} };
    this.socket.addWatcher(watcher);
    this.proc.connect(this.fd, port);
    this.schedule();
  }

  /** Everything the client has read so far. */
  get received(): Uint8Array {
    return this.buf.subarray(0, this.size);
  }

  /** The received bytes decoded as wizz frames (a partial frame at the end is left out). */
  frames(): Frame[] {
    return new FrameDecoder().push(this.received);
  }

  /** True once the server closed the connection (EOF) or reset it. */
  get closedByPeer(): boolean {
    return this.eof || this.socket.finReceived || (this.connected && this.socket.err !== 0) || this.error === 'ECONNRESET';
  }

  /** Bytes queued by send() that have not been written into the socket yet. */
  get unsent(): number {
    return this.outbox.length;
  }

  send(bytes: Uint8Array | string): void {
    if (this.closedLocally) throw new Error('send() after close()/reset()');
    this.outbox.push(typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes);
    this.schedule();
  }

  sendFrame(type: number, body: Record<string, unknown>): void {
    this.send(encodeFrame(type, body));
  }

  /** Half-close: once everything queued is written, shutdown(SHUT_WR) — the server reads EOF. */
  shutdownWrite(): void {
    this.afterDrain = 'shutdown';
    this.schedule();
  }

  /** Orderly close once everything queued is written. */
  close(): void {
    this.afterDrain = 'close';
    this.schedule();
  }

  /** Abortive close: SO_LINGER {1, 0} then close() — the server sees ECONNRESET. */
  reset(): void {
    if (this.closedLocally) return;
    this.closedLocally = true;
    this.hasReset = true;
    if (this.dripTimer) this.kernel.clock.cancel(this.dripTimer);
    this.proc.setsockopt(this.fd, SOL_SOCKET, SO_LINGER, { onoff: 1, linger: 0 });
    this.proc.close(this.fd);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.kernel.activity();
    queueMicrotask(() => {
      this.scheduled = false;
      this.run();
    });
  }

  private run(): void {
    if (this.closedLocally) return;
    const s = this.socket;
    if (s.state === 'established') this.connected = true;
    if (s.state === 'closed' && s.err && !this.error) this.error = errnoName(s.err);
    if (this.opts.hostile !== 'never-reads') this.readAll();
    this.flush();
  }

  private readAll(): void {
    for (let i = 0; i < 10_000 && !this.eof; i++) {
      const chunk = new Uint8Array(between(this.rand, 1, 4096));
      const n = this.proc.read(this.fd, chunk);
      if (n > 0) this.keep(chunk.subarray(0, n));
      else if (n === 0) this.eof = true;
      else {
        if (n !== -EAGAIN && !this.error) this.error = errnoName(n);
        return;
      }
    }
  }

  private keep(bytes: Uint8Array): void {
    if (this.size + bytes.length > this.buf.length) {
      const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.size + bytes.length));
      bigger.set(this.received);
      this.buf = bigger;
    }
    this.buf.set(bytes, this.size);
    this.size += bytes.length;
  }

  private flush(): void {
    if (!this.connected || this.closedLocally) return;
    if (this.opts.hostile === 'drip') return this.drip();
    if (this.opts.hostile === 'reset-mid-write' && this.outbox.length > 0 && !this.hasReset) {
      const half = new Uint8Array(Math.max(1, this.outbox.length >> 1));
      this.outbox.take(half);
      this.proc.write(this.fd, half);
      return this.reset();
    }
    while (this.outbox.length > 0) {
      const piece = new Uint8Array(Math.min(this.outbox.length, between(this.rand, 1, 8192)));
      this.outbox.take(piece);
      const n = this.proc.write(this.fd, piece);
      if (n < 0) {
        if (n !== -EAGAIN && !this.error) this.error = errnoName(n);
        this.requeue(piece);
        return;
      }
      if (n < piece.length) {
        this.requeue(piece.subarray(n));
        return; // buffer full: the next "writable" wake-up continues
      }
    }
    this.finishDrained();
  }

  /** Puts unwritten bytes back at the front of the outbox. */
  private requeue(rest: Uint8Array): void {
    const tail = new Uint8Array(this.outbox.length);
    this.outbox.take(tail);
    this.outbox.push(rest);
    this.outbox.push(tail);
  }

  private drip(): void {
    if (this.dripTimer || this.outbox.length === 0) {
      if (this.outbox.length === 0) this.finishDrained();
      return;
    }
    this.dripTimer = this.kernel.clock.setTimer(1, () => {
      this.dripTimer = null;
      if (this.closedLocally) return;
      const one = new Uint8Array(1);
      this.outbox.take(one);
      const n = this.proc.write(this.fd, one);
      if (n !== 1) this.requeue(one);
      this.kernel.activity();
      this.schedule();
    });
  }

  private finishDrained(): void {
    if (this.afterDrain === 'shutdown') {
      this.afterDrain = null;
      this.proc.shutdown(this.fd, SHUT_WR);
    } else if (this.afterDrain === 'close') {
      this.afterDrain = null;
      this.closedLocally = true;
      this.proc.close(this.fd);
    }
  }
}
