// One client connection as an event loop sees it: the frames coming in (a FrameDecoder, because TCP
// is a byte stream — stage 00) and the bytes going out (a bounded queue, because write() may take
// only part of what you hand it). The loop decides *when* to read and write; this decides *what*.
import { EAGAIN, type Process } from '#kernel/index.ts';
import { FrameDecoder, type Frame } from '#server/protocol/frame.ts';
import type { Delivery } from './chat.ts';
import { DEFAULT_MAX_OUTBOUND_BYTES } from './server-options.ts';

/** After a flush: keep the connection, or close it (the peer is gone, or it was told goodbye). */
export type FlushOutcome = 'keep' | 'close';

export class Connection {
  private readonly decoder = new FrameDecoder();
  /** Outbound chunks; chunks[head] is partly written up to `offset`. Shared broadcast bytes are never copied. */
  private chunks: Uint8Array[] = [];
  private head = 0;
  private offset = 0;
  private queued = 0;
  /** Set by a delivery with `close`: close once everything queued is written. */
  closeAfterFlush = false;

  constructor(
    readonly fd: number,
    readonly maxOutboundBytes: number = DEFAULT_MAX_OUTBOUND_BYTES,
  ) {}

  /** Frames completed by these bytes. Throws FrameError when the peer breaks the framing. */
  receive(chunk: Uint8Array): Frame[] {
    return this.decoder.push(chunk);
  }

  /** Bytes waiting to be written. */
  get outboundBytes(): number {
    return this.queued;
  }

  /**
   * True while the chunk at the head of the queue is partly written: the peer has the start of a
   * frame and not its end, so nothing else may be written to the socket now — not even a goodbye
   * ERROR, whose bytes would land inside that frame. (A chunk is what one queue() call was given,
   * one frame in the chat; a chunk of several frames counts as mid-frame until written whole.)
   */
  get midFrame(): boolean {
    return this.offset > 0;
  }

  /** True while bytes wait for the socket to become writable: the only time to watch for that. */
  get wantsWrite(): boolean {
    return this.queued > 0;
  }

  /** Queues bytes. False when they would exceed the bound: the peer lags too far, disconnect it. */
  queue(bytes: Uint8Array): boolean {
    if (this.queued + bytes.length > this.maxOutboundBytes) return false;
    this.chunks.push(bytes);
    this.queued += bytes.length;
    return true;
  }

  /** Writes queued bytes until the queue is empty or the socket's send buffer is full. */
  flush(proc: Process): FlushOutcome {
    while (this.queued > 0) {
      const chunk = this.chunks[this.head]!;
      const n = proc.write(this.fd, this.offset === 0 ? chunk : chunk.subarray(this.offset));
      if (n === -EAGAIN || n === 0) return 'keep'; // full: wait until the socket is writable again
      if (n < 0) return 'close'; // EPIPE, ECONNRESET: nobody is listening any more
      this.queued -= n;
      this.offset += n;
      if (this.offset < chunk.length) return 'keep'; // a partial write means the buffer is full
      this.head += 1;
      this.offset = 0;
    }
    this.chunks = [];
    this.head = 0;
    return this.closeAfterFlush ? 'close' : 'keep';
  }
}

/** Anything that finds a connection by fd — a Map<number, Connection> will do. */
export interface ConnectionLookup {
  get(fd: number): Connection | undefined;
}

/**
 * Queues each delivery on its connection and writes right away to connections that were not
 * already waiting for writability (those get their turn when the loop sees them writable).
 * Returns the fds the loop must now close: write failed, queue bound exceeded, or told goodbye.
 */
export function deliver(proc: Process, deliveries: Iterable<Delivery>, connections: ConnectionLookup): number[] {
  const toFlush = new Set<Connection>();
  const toClose = new Set<number>();
  for (const { to, bytes, close } of deliveries) {
    const conn = connections.get(to);
    if (conn === undefined || toClose.has(to)) continue;
    if (!conn.wantsWrite) toFlush.add(conn);
    if (!conn.queue(bytes)) {
      toClose.add(to);
      continue;
    }
    if (close) conn.closeAfterFlush = true;
  }
  for (const conn of toFlush) {
    if (!toClose.has(conn.fd) && conn.flush(proc) === 'close') toClose.add(conn.fd);
  }
  return [...toClose];
}
