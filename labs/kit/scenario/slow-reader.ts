// A client that reads slowly: a simulated client that never reads by itself, read instead a little
// at a time on a timer, and whose sends also go out a little at a time on that same tick. So in one
// tick it sends (the server's read side becomes ready) and frees room in its socket (the write side
// becomes ready): both arrive in one wake-up, as they do with real clients on a busy network.
import { EAGAIN, type Kernel } from '#kernel/index.ts';
import type { Timer } from '#kernel/clock.ts';
import type { Client } from '../grading.ts';

/** Virtual ms between two ticks. */
const TICK_MS = 4;
/** Bytes read per tick at most. */
const READ_PER_TICK = 512;
/** Bytes handed to the socket per tick at most. */
const SEND_PER_TICK = 128;

export class SlowReader {
  private buf = new Uint8Array(1024);
  private size = 0;
  private readonly pending: Uint8Array[] = [];
  private timer: Timer | null = null;
  private eof = false;

  constructor(
    private readonly kernel: Kernel,
    /** A simulated client opened with 'never-reads': it writes, this reads for it. */
    readonly sim: Client,
  ) {
    this.arm();
  }

  get received(): Uint8Array {
    return this.buf.subarray(0, this.size);
  }

  /** True once a read returned EOF or an error: everything the server sent has been read. */
  get ended(): boolean {
    return this.eof;
  }

  /** Bytes handed to send() that have not gone to the socket yet. */
  get pendingBytes(): number {
    return this.pending.reduce((n, p) => n + p.length, 0);
  }

  send(bytes: Uint8Array): void {
    this.pending.push(bytes);
  }

  /** Sends what is still pending at once (before a close or a reset). */
  flushPending(): void {
    for (const p of this.pending.splice(0)) this.sim.send(p);
  }

  stop(): void {
    if (this.timer) this.kernel.clock.cancel(this.timer);
    this.timer = null;
  }

  private arm(): void {
    this.timer = this.kernel.clock.setTimer(TICK_MS, () => this.tick());
  }

  private tick(): void {
    this.timer = null;
    // Send, then read, in one go: the server finds this socket readable and writable in one wake-up.
    let budget = SEND_PER_TICK;
    while (budget > 0 && this.pending.length > 0) {
      const head = this.pending[0]!;
      const n = this.sim.proc.write(this.sim.fd, head.subarray(0, budget));
      if (n <= 0) break; // full (or gone): try again next tick
      budget -= n;
      if (n === head.length) this.pending.shift();
      else this.pending[0] = head.subarray(n);
    }
    if (!this.eof) {
      const chunk = new Uint8Array(READ_PER_TICK);
      const n = this.sim.proc.read(this.sim.fd, chunk);
      if (n > 0) this.keep(chunk.subarray(0, n));
      else if (n === 0 || n !== -EAGAIN) this.eof = true; // EOF, reset, or our own fd closed
    }
    this.kernel.activity();
    if (!this.eof) this.arm();
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
}
