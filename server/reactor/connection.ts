// One client socket: inbound reassembly, a bounded outbound queue flushed once per loop
// iteration (cork → writes → uncork = one writev), and the slow-consumer cut-off.
import type net from 'node:net';
import { FrameDecoder, FrameError, type Frame } from '../protocol/frame.ts';
import { Srv, type ErrorCode } from '../protocol/codes.ts';
import type { FramePool, PooledFrame } from '../pool/frame-pool.ts';

export interface ConnectionLimits {
  /** Bytes the kernel would not take (left in the socket's userland buffer) before the client counts as slow. */
  maxOutboundBytes: number;
  /** Frames received but not yet handled before we stop reading from the socket. */
  maxInboundFrames: number;
}

export interface ConnectionEvents {
  onFrame(frame: Frame): void;
  onBadFrame(err: FrameError): void;
  onClose(): void;
}

/** Flushes every connection that queued frames during this loop iteration, once. */
export class Flusher {
  private readonly dirty = new Set<Connection>();
  private scheduled = false;

  mark(conn: Connection): void {
    this.dirty.add(conn);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flushAll());
    }
  }

  flushAll(): void {
    this.scheduled = false;
    for (const conn of this.dirty) conn.flush();
    this.dirty.clear();
  }
}

const BURST_FACTOR = 4;
const GRACE_MS = 1_000; // time a closing socket gets to deliver its last frames

export class Connection {
  private readonly decoder = new FrameDecoder();
  private queue: PooledFrame[] = [];
  private queuedBytes = 0;
  private closing = false;
  private closed = false;
  private paused = false;
  inboundFrames = 0;

  constructor(
    readonly socket: net.Socket,
    private readonly pool: FramePool,
    private readonly flusher: Flusher,
    private readonly limits: ConnectionLimits,
    private readonly events: ConnectionEvents,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {}); // a reset is a close; 'close' follows
    socket.on('close', () => this.onSocketClose());
  }

  get isOpen(): boolean {
    return !this.closing && !this.closed;
  }

  /** Queues a frame built by the pool; the connection takes its own reference. */
  sendFrame(frame: PooledFrame): void {
    if (!this.isOpen) return;
    // A burst within one loop iteration may exceed the bound (the kernel usually takes it at the
    // flush); only a burst far beyond it is refused before the kernel has had its say.
    if (this.socket.writableLength + this.queuedBytes + frame.length > BURST_FACTOR * this.limits.maxOutboundBytes) {
      this.slowConsumer();
      return;
    }
    this.queue.push(frame.retain());
    this.queuedBytes += frame.length;
    this.flusher.mark(this);
  }

  /** Encodes and queues a one-recipient frame. */
  send(type: number, body: object): void {
    if (!this.isOpen) return;
    const frame = this.pool.encode(type, body);
    this.sendFrame(frame);
    frame.release();
  }

  /** Sends ERROR and closes after the queued frames (bypasses the outbound bound). */
  closeWithError(code: ErrorCode, message: string, re?: string | number): void {
    if (!this.isOpen) return;
    const frame = this.pool.encode(Srv.ERROR, re === undefined ? { code, message } : { re, code, message });
    if (code === 'slow_consumer') this.dropQueue(); // what it did not read is lost anyway
    this.queue.push(frame.retain());
    this.queuedBytes += frame.length;
    frame.release();
    this.closing = true;
    this.flush();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), GRACE_MS).unref();
  }

  /** Ends the socket after its queued frames are written. */
  end(): void {
    if (!this.isOpen) return;
    this.closing = true;
    this.flush();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), GRACE_MS).unref();
  }

  flush(): void {
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    if (this.closed || this.socket.destroyed) {
      for (const f of batch) f.release();
      return;
    }
    this.socket.cork();
    const last = batch.length - 1;
    for (let i = 0; i < last; i++) this.socket.write(batch[i]!.bytes);
    // Writes finish in order, so the last callback frees the whole batch (also on error).
    this.socket.write(batch[last]!.bytes, () => {
      for (const f of batch) f.release();
    });
    this.socket.uncork();
    // uncork() wrote what the kernel would take; what is left waits in userland. More than the
    // bound means the client stopped reading: cut it off before it costs more memory.
    if (this.socket.writableLength > this.limits.maxOutboundBytes) this.slowConsumer();
  }

  private slowConsumer(): void {
    this.closeWithError('slow_consumer', 'you are not reading fast enough; disconnected');
  }

  /** Called by the reactor when it finished handling one inbound frame. */
  frameDone(): void {
    this.inboundFrames--;
    if (this.paused && this.inboundFrames < this.limits.maxInboundFrames / 2) {
      this.paused = false;
      if (!this.closed) this.socket.resume();
    }
  }

  private onData(chunk: Buffer): void {
    if (this.closing || this.closed) return;
    try {
      this.decoder.decode(chunk, (frame) => {
        this.inboundFrames++;
        this.events.onFrame(frame);
      });
    } catch (err) {
      if (err instanceof FrameError) this.events.onBadFrame(err);
      else throw err;
      return;
    }
    if (!this.paused && this.inboundFrames >= this.limits.maxInboundFrames) {
      this.paused = true; // backpressure on a client that pipelines faster than we answer
      this.socket.pause();
    }
  }

  private dropQueue(): void {
    for (const f of this.queue) f.release();
    this.queue = [];
    this.queuedBytes = 0;
  }

  private onSocketClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    this.dropQueue();
    this.events.onClose();
  }
}
