// One client socket: inbound reassembly that stops at the inbound limit, a bounded outbound queue
// flushed once per loop iteration (cork → writes → uncork = one writev), write confirmations for
// frames whose delivery must be recorded, and the slow-consumer cut-off.
//
// A reactor holds tens of thousands of these, most of them idle, so an idle one allocates nothing
// it does not need: no closure per connection (the socket's listeners and the reactor's callbacks
// are shared; under tsx each named closure also costs a property dictionary of its own), and the
// decoder and queues only once there is something to decode or queue.
import type net from 'node:net';
import { FrameDecoder, FrameError, type Frame } from '../protocol/frame.ts';
import { Srv, type ErrorCode } from '../protocol/codes.ts';
import type { FramePool, PooledFrame } from '../pool/frame-pool.ts';

export interface ConnectionLimits {
  /** Bytes the kernel would not take (left in the socket's userland buffer) before the client counts as slow. */
  maxOutboundBytes: number;
  /** Frames received but not yet handled; at this many the connection stops decoding and reading. */
  maxInboundFrames: number;
}

/** What a connection reports to its reactor, with its owner (the reactor's session for it): one object serves every connection. */
export interface ConnectionEvents<O> {
  onFrame(owner: O, frame: Frame): void;
  onBadFrame(owner: O, err: FrameError): void;
  /** Handling a frame failed with a bug; the connection is destroyed right after. */
  onError(owner: O, err: unknown): void;
  /** The client half-closed (its FIN arrived): it sends nothing more, but may still read. */
  onEnd(owner: O): void;
  onClose(owner: O): void;
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
const NO_WAITERS: ReadonlyArray<(open: boolean) => void> = Object.freeze([]);

function releaseAll(frames: readonly PooledFrame[]): void {
  for (const f of frames) f.release();
}

/** The decoder's consumer before there is a decoder: never called. */
function noDecoderYet(): boolean {
  throw new Error('a frame before the decoder existed');
}

/** The socket's listeners, shared by every connection: each finds its connection on the socket. */
const OWNER = Symbol('wizz.connection');
type Owned = net.Socket & { [OWNER]: Connection<unknown> };
function onSocketData(this: net.Socket, chunk: Buffer): void {
  (this as Owned)[OWNER].onData(chunk);
}
function onSocketEnd(this: net.Socket): void {
  (this as Owned)[OWNER].onSocketEnd();
}
function onSocketClose(this: net.Socket): void {
  (this as Owned)[OWNER].onSocketClose();
}
function ignoreSocketError(): void {
  // a reset is a close; 'close' follows
}

export class Connection<O = unknown> {
  /** Created with the first bytes received. */
  private decoder: FrameDecoder | null = null;
  /** Frames waiting for this iteration's flush; null while there are none. */
  private queue: PooledFrame[] | null = null;
  /**
   * Write confirmations of queued frames (recording a delivery), run once the batch was written
   * to the socket — never when the write failed or was dropped; null while there are none.
   */
  private confirms: Array<() => void> | null = null;
  private queuedBytes = 0;
  private closing = false;
  private closed = false;
  private paused = false;
  private writableWaiters: ReadonlyArray<(open: boolean) => void> = NO_WAITERS;
  inboundFrames = 0;
  /**
   * The client half-closed. The server's sockets allow half-open connections (Node would otherwise
   * end our side at the FIN and drop the replies still being worked on): the reactor ends it once
   * every request read before the FIN is answered.
   */
  peerEnded = false;
  /** Passed back with every event (the reactor's session); set by the creator before any I/O. */
  owner!: O;

  constructor(
    readonly socket: net.Socket,
    private readonly pool: FramePool,
    private readonly flusher: Flusher,
    private readonly limits: ConnectionLimits,
    private readonly events: ConnectionEvents<O>,
  ) {
    socket.setNoDelay(true);
    (socket as Owned)[OWNER] = this;
    socket.on('data', onSocketData);
    socket.on('error', ignoreSocketError);
    socket.on('end', onSocketEnd);
    socket.on('close', onSocketClose);
  }

  get isOpen(): boolean {
    return !this.closing && !this.closed;
  }

  /** Outbound bytes not yet taken by the kernel: our queue plus the socket's userland buffer. */
  get outboundBytes(): number {
    return this.queuedBytes + this.socket.writableLength;
  }

  /**
   * Queues a frame built by the pool; the connection takes its own reference. `onWritten` runs
   * once the frame's bytes were written to the socket — use it to record a delivery.
   */
  sendFrame(frame: PooledFrame, onWritten?: () => void): void {
    if (!this.isOpen) return;
    // A burst within one loop iteration may exceed the bound (the kernel usually takes it at the
    // flush); only a burst far beyond it is refused before the kernel has had its say.
    if (this.outboundBytes + frame.length > BURST_FACTOR * this.limits.maxOutboundBytes) {
      this.slowConsumer();
      return;
    }
    if (this.queue === null) {
      this.queue = [];
      this.flusher.mark(this); // once per iteration, not once per frame
    }
    this.queue.push(frame.retain());
    if (onWritten) (this.confirms ??= []).push(onWritten);
    this.queuedBytes += frame.length;
  }

  /** Encodes and queues a one-recipient frame. Throws FrameError if the body does not fit a frame. */
  send(type: number, body: object, onWritten?: () => void): void {
    if (!this.isOpen) return;
    const frame = this.pool.encode(type, body);
    this.sendFrame(frame, onWritten);
    frame.release();
  }

  /**
   * Resolves 'writable' once the outbound bytes are below half the bound, 'closed' if the
   * connection closes first, 'stalled' if the client took nothing for `stallMs`. Senders of long
   * streams (the LOGIN backlog) wait on it, so a reader sets the pace and a slow one is never cut
   * off for what the server chose to send — only one that stops reading altogether.
   */
  whenWritable(stallMs: number): Promise<'writable' | 'closed' | 'stalled'> {
    const below = this.limits.maxOutboundBytes / 2;
    if (!this.isOpen) return Promise.resolve('closed');
    if (this.outboundBytes < below) return Promise.resolve('writable');
    return new Promise((resolve) => {
      let settled = false;
      const settle = (how: 'writable' | 'closed' | 'stalled') => {
        settled = true;
        resolve(how);
      };
      let timer = setTimeout(() => settle('stalled'), stallMs);
      const check = (open: boolean) => {
        if (settled) return;
        clearTimeout(timer);
        if (!open || !this.isOpen) settle('closed');
        else if (this.outboundBytes < below) settle('writable');
        else {
          timer = setTimeout(() => settle('stalled'), stallMs); // progress: the clock starts again
          this.writableWaiters = [...this.writableWaiters, check];
        }
      };
      this.writableWaiters = [...this.writableWaiters, check];
    });
  }

  /** Sends ERROR and closes after the queued frames (bypasses the outbound bound). Never throws. */
  closeWithError(code: ErrorCode, message: string, re?: string | number): void {
    if (!this.isOpen) return;
    if (code === 'slow_consumer') this.dropQueue(); // what it did not read is lost anyway
    try {
      const frame = this.pool.encode(Srv.ERROR, re === undefined ? { code, message } : { re, code, message });
      (this.queue ??= []).push(frame);
      this.queuedBytes += frame.length;
    } catch {
      // Cannot happen with the server's own messages and capped ids; closing matters more than saying why.
    }
    this.end();
  }

  /** Ends the socket after its queued frames are written. */
  end(): void {
    if (!this.isOpen) return;
    this.closing = true;
    this.flush();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), GRACE_MS).unref();
    this.wakeWriters();
  }

  /** Drops everything at once: handling a request hit a bug, so this connection's state is suspect. */
  destroy(): void {
    this.closing = true;
    this.dropQueue();
    this.socket.destroy();
    this.wakeWriters();
  }

  flush(): void {
    const frames = this.queue;
    if (frames === null) return;
    const confirms = this.confirms;
    const bytes = this.queuedBytes;
    this.queue = null;
    this.confirms = null;
    this.queuedBytes = 0;
    if (this.closed || this.socket.destroyed) {
      releaseAll(frames);
      return;
    }
    if (this.socket.writableLength > 0) {
      // The kernel did not take what we wrote last time: these bytes will wait. Pooled slices
      // would pin whole slabs for as long as the client does not read, so write one exact copy
      // and give the slabs back now; memory held for this client is then exactly what it owes.
      const copy = Buffer.concat(frames.map((f) => f.bytes), bytes);
      releaseAll(frames);
      this.writeOut(copy, null, confirms);
    } else if (frames.length === 1) {
      this.writeOut(frames[0]!.bytes, frames[0]!, confirms);
    } else {
      // One write of one contiguous copy: a stream write per frame (cork, writev) costs more in
      // Node's stream machinery than copying a few hundred bytes does.
      const joined = this.pool.join(frames, bytes);
      releaseAll(frames);
      this.writeOut(joined.bytes, joined, confirms);
    }
    // What the kernel would not take waits in userland. More than the bound means the client
    // stopped reading: cut it off before it costs more memory.
    if (this.socket.writableLength > this.limits.maxOutboundBytes) this.slowConsumer();
  }

  /** Writes `bytes` (held by `frame` when pooled, released once written) and confirms the batch. */
  private writeOut(bytes: Buffer, frame: PooledFrame | null, confirms: Array<() => void> | null): void {
    // (The callback is anonymous on purpose: under tsx a named closure is renamed with
    // defineProperty each time it is created, which costs more than the write on this hot path.)
    this.socket.write(bytes, (err) => {
      frame?.release();
      this.written(confirms, err);
    });
  }

  /** A flushed batch reached the socket (or failed to). */
  private written(confirms: Array<() => void> | null, err: Error | null | undefined): void {
    // Node reports a write that was in flight when the socket was destroyed as a success (its
    // bytes may be only partly in the kernel): only a write that finished on a live socket counts.
    // Nor one after the client's FIN: a client that closed its socket outright sends the same FIN
    // as one that only half-closed, and the kernel takes our bytes either way — so what is written
    // after it still goes out, but is not recorded as delivered (it comes again at the next LOGIN).
    if (confirms !== null && !err && !this.socket.destroyed && !this.peerEnded) for (const c of confirms) c();
    this.wakeWriters();
  }

  private slowConsumer(): void {
    this.closeWithError('slow_consumer', 'you are not reading fast enough; disconnected');
  }

  /** Called by the reactor when it finished handling one inbound frame. */
  frameDone(): void {
    this.inboundFrames--;
    if (!this.paused || this.inboundFrames >= this.limits.maxInboundFrames / 2 || !this.isOpen) return;
    // Decode what the last read left before reading more; it may reach the limit again.
    const decoder = this.decoder!; // paused: it stopped on a read
    if (!this.decodeSafely(() => decoder.resume(this.takeFrame))) return;
    if (decoder.stopped) return;
    this.paused = false;
    if (!this.closed) this.socket.resume();
  }

  /** The decoder's consumer: created with the decoder, so an idle connection has none. */
  private takeFrame: (frame: Frame) => boolean = noDecoderYet;

  /** @internal the socket's shared 'data' listener */
  onData(chunk: Buffer): void {
    if (!this.isOpen) return;
    let decoder = this.decoder;
    if (decoder === null) {
      decoder = this.decoder = new FrameDecoder();
      this.takeFrame = (frame) => {
        this.inboundFrames++;
        this.events.onFrame(this.owner, frame);
        return this.inboundFrames < this.limits.maxInboundFrames;
      };
    }
    if (!this.decodeSafely(() => decoder.decode(chunk, this.takeFrame))) return;
    if (!this.paused && decoder.stopped) {
      this.paused = true; // backpressure on a client that pipelines faster than we answer
      this.socket.pause();
    }
  }

  /** Runs a decoder step; a bad frame goes to the reactor, any other failure ends only this connection. */
  private decodeSafely(step: () => unknown): boolean {
    try {
      step();
      return true;
    } catch (err) {
      if (err instanceof FrameError) this.events.onBadFrame(this.owner, err);
      else {
        this.events.onError(this.owner, err);
        this.destroy();
      }
      return false;
    }
  }

  private wakeWriters(): void {
    if (this.writableWaiters.length === 0) return;
    const waiters = this.writableWaiters;
    this.writableWaiters = NO_WAITERS;
    for (const w of waiters) w(this.isOpen);
  }

  private dropQueue(): void {
    if (this.queue !== null) releaseAll(this.queue);
    this.queue = null;
    this.confirms = null;
    this.queuedBytes = 0;
  }

  /** @internal the socket's shared 'end' listener */
  onSocketEnd(): void {
    this.peerEnded = true;
    if (this.isOpen) this.events.onEnd(this.owner);
  }

  /** @internal the socket's shared 'close' listener */
  onSocketClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.closing = true;
    this.dropQueue();
    this.wakeWriters();
    this.events.onClose(this.owner);
  }
}
