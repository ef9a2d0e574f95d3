// Stage 05: the stage-03 epoll chat, with its inbound buffers taken from a BufferPool. A client
// borrows one chunk when it has bytes to read and gives it back as soon as every byte in it has
// become a frame, so an idle client holds nothing and a chat storm reuses the same few chunks
// instead of allocating a buffer per read. The chunk is also the frame-reassembly buffer: a frame
// cut by a read boundary stays in the client's chunk, after which the next read() lands directly —
// no second buffer, no copy into one. Everything else (outbound queue, epoll) is stage 03 unchanged.
//
// Your work is marked TODO (README steps 6–8): borrow the chunk, give it back on every way out.
import {
  EAGAIN, EINTR, EPOLLERR, EPOLLET, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLL_CTL_ADD, EPOLL_CTL_MOD,
  SOCK_NONBLOCK, errnoName, type EpollEvent, type Process,
} from '#kernel/index.ts';
import { ChatRoom, errorFrame, type Delivery } from '#kit/chat.ts';
import { Connection } from '#kit/connection.ts';
import { openListener, raiseFdLimit } from '#kit/listen.ts';
import { DEFAULT_MAX_OUTBOUND_BYTES, type ServerOptions } from '#kit/server-options.ts';
import { FrameError, HEADER_BYTES, MAX_FRAME_LENGTH, parsePayload } from '#server/protocol/frame.ts';
import { BufferPool, type Handle } from './pool.ts';

/** Events one epoll_wait hands back at most; more ready sockets simply wait for the next call. */
const MAX_EVENTS = 256;
/** epoll_wait gives up after this long, so the loop comes round to see options.signal. */
const WAKE_AT_LEAST_EVERY_MS = 500;
/** A chunk holds the largest frame whole, so reassembly never needs a second buffer. */
export const INBOX_BYTES = HEADER_BYTES + MAX_FRAME_LENGTH;

/** What the server needs from a pool: BufferPool fits; graders pass counting or unpooled ones. */
export type ChunkSource = Pick<BufferPool, 'chunkSize' | 'acquire' | 'release' | 'bytes'>;

export interface PoolServerOptions extends ServerOptions {
  /** Where inbound buffers come from (default: a growing BufferPool of INBOX_BYTES chunks). */
  pool?: ChunkSource;
}

/** The default pool: 64 chunks (4 MiB) at first, growing to 4,096 clients mid-frame at once. */
export function defaultPool(): BufferPool {
  return new BufferPool({ chunkSize: INBOX_BYTES, chunksPerSlab: 64, onExhausted: 'grow', maxSlabs: 64 });
}

/** The `data` of the listening socket's registration; clients carry their Client object. */
const LISTENER = 'listener';

interface Client {
  readonly fd: number;
  readonly conn: Connection;
  /** Whether EPOLLOUT is in this socket's registration right now. */
  watchingWrites: boolean;
  /** Set when the fd is closed: later events of the same batch may still carry this object. */
  closed: boolean;
  /** The borrowed chunk, or null while every byte read so far has become a frame. */
  inbox: Handle | null;
  /** Bytes of an unfinished frame at the start of the chunk. */
  filled: number;
}

export async function runServer(proc: Process, options: PoolServerOptions): Promise<void> {
  raiseFdLimit(proc); // ten thousand clients need more than the default 1,024 fds
  const pool = options.pool ?? defaultPool();
  if (pool.chunkSize < INBOX_BYTES) throw new RangeError(`pool chunks must hold a whole frame (${INBOX_BYTES} bytes)`);
  const server = new EpollChatServer(proc, options.maxOutboundBytes ?? DEFAULT_MAX_OUTBOUND_BYTES, pool);
  server.listen(options.port);
  try {
    const events: EpollEvent[] = [];
    while (!options.signal.aborted) {
      const n = await proc.epoll_wait(server.epfd, events, MAX_EVENTS, WAKE_AT_LEAST_EVERY_MS);
      if (n === -EINTR) continue;
      if (n < 0) throw new Error(`epoll_wait failed: ${errnoName(n)}`);
      for (let i = 0; i < n; i++) server.dispatch(events[i]!);
      server.resumeStarved(); // chunks released in this batch go to clients that waited for one
    }
  } finally {
    server.closeAll();
  }
}

class EpollChatServer {
  readonly epfd: number;
  private listener = -1;
  /** An fd held in reserve for the fd limit (see refuseNewcomer). */
  private spare: number;
  private readonly clients = new Map<number, Client>();
  private readonly room = new ChatRoom();
  /** Clients with bytes to read that found the pool empty: backpressure, resumed by resumeStarved(). */
  private readonly starved = new Set<Client>();

  constructor(
    private readonly proc: Process,
    private readonly maxOutboundBytes: number,
    private readonly pool: ChunkSource,
  ) {
    this.epfd = check('epoll_create1', proc.epoll_create1(0));
    this.spare = this.reserveSpare();
  }

  listen(port: number): void {
    this.listener = openListener(this.proc, port);
    // Level-triggered: if we stop accepting early, epoll reminds us on the next call.
    this.ctl(EPOLL_CTL_ADD, this.listener, EPOLLIN, LISTENER);
  }

  dispatch(event: EpollEvent): void {
    if (event.data === LISTENER) return this.acceptAll();
    const client = event.data as Client;
    if (client.closed) return; // closed by an earlier event of this batch; its fd may be reused already
    // An error or hang-up is reported as EPOLLERR/EPOLLHUP; the read that follows says which.
    if (event.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) this.readUntilEagain(client);
    if (!client.closed && event.events & EPOLLOUT) this.flush(client);
  }

  private acceptAll(): void {
    for (;;) {
      const fd = this.proc.accept4(this.listener, SOCK_NONBLOCK);
      if (fd === -EAGAIN) return; // the backlog is empty
      if (fd < 0) {
        // EMFILE: no fd for the newcomer, and it stays in the backlog, so the level-triggered
        // listener would be reported again at once, forever. Turn it away instead.
        if (this.refuseNewcomer()) continue;
        return;
      }
      const client: Client = { fd, conn: new Connection(fd, this.maxOutboundBytes), watchingWrites: false, closed: false, inbox: null, filled: 0 };
      this.clients.set(fd, client);
      // Registered once, for good: edge-triggered reads, no EPOLLOUT until something is queued.
      this.ctl(EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLET, client);
      this.deliver(this.room.join(fd));
    }
  }

  /**
   * The spare-fd trick, at the fd limit: give back the fd held in reserve so that accept4 can take
   * the newcomer, tell it the server is full, hang up, and reserve the fd again. The backlog
   * shrinks by one, so the listener stops being ready once everyone waiting has been told.
   * Returns false when nobody was waiting after all.
   */
  private refuseNewcomer(): boolean {
    this.proc.close(this.spare);
    const fd = this.proc.accept4(this.listener, SOCK_NONBLOCK);
    if (fd >= 0) {
      this.proc.write(fd, errorFrame('server_full', 'the server has no file descriptor left for you: try again later'));
      this.proc.close(fd);
    }
    this.spare = this.reserveSpare();
    return fd >= 0;
  }

  /**
   * One fd in reserve for the day accept4 says EMFILE. A real server opens /dev/null; the emulator
   * has no files, so a duplicate of stdin does the same job.
   */
  private reserveSpare(): number {
    return check('reserving a spare fd', this.proc.dup(0));
  }

  /** Edge-triggered: this event will not come again for bytes already here, so take them all now. */
  private readUntilEagain(client: Client): void {
    for (;;) {
      const chunk = this.inbox(client);
      if (chunk === null) return; // no chunk free: starved until one is released
      // Read after the unfinished frame's bytes, so the frame completes in place.
      const n = this.proc.read(client.fd, chunk.subarray(client.filled));
      if (n === -EAGAIN) {
        // TODO(step 8): nothing half-read (client.filled === 0)? Give the chunk back now, so an
        // idle client holds no memory. With half a frame in it, keep it for the rest.
        return;
      }
      if (n <= 0) return this.disconnect(client); // 0: the peer closed; < 0: reset
      if (client.conn.closeAfterFlush) continue; // saying goodbye: what it sends now is dropped
      client.filled += n;
      try {
        this.takeFrames(client, chunk);
      } catch (err) {
        if (!(err instanceof FrameError)) throw err;
        this.releaseInbox(client); // the stream has lost its framing: what is left is garbage
        this.deliver(this.room.refuse(client.fd, err));
        return;
      }
      if (client.closed) return;
    }
  }

  /** The client's chunk, borrowed from the pool if it has none; null (and starved) if the pool is empty. */
  private inbox(client: Client): Uint8Array | null {
    // TODO(step 6): if client.inbox is null, acquire a chunk from this.pool. On null the pool is
    // empty: add the client to this.starved (backpressure — its bytes wait in the kernel, and
    // resumeStarved() reads it later) and return null. Otherwise keep the handle in client.inbox
    // with client.filled = 0. Return the chunk's bytes (this.pool.bytes) — never a new Uint8Array.
    void client;
    throw new Error('TODO: borrow the client\'s chunk from the pool (step 6)');
  }

  /** Gives the client's chunk back (if it holds one). Every way out — EAGAIN, error, close — ends here. */
  private releaseInbox(client: Client): void {
    // TODO(step 7): if the client holds a chunk, release it to this.pool and reset inbox/filled.
    void client;
    throw new Error('TODO: give the client\'s chunk back (step 7)');
  }

  /** Handles every whole frame in the chunk, then moves an unfinished one's bytes to the front. */
  private takeFrames(client: Client, chunk: Uint8Array): void {
    let at = 0;
    while (client.filled - at >= HEADER_BYTES) {
      const length = frameLength(chunk, at);
      if (client.filled - at - HEADER_BYTES < length) break; // the rest of this frame is still on its way
      // parsePayload copies what it keeps (strings), so the chunk can be reused afterwards.
      const frame = parsePayload(chunk.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length));
      at += HEADER_BYTES + length;
      this.deliver(this.room.handle(client.fd, frame));
      if (client.closed) return;
      if (client.conn.closeAfterFlush) {
        at = client.filled; // e.g. an unknown frame type: no more requests from it
        break;
      }
    }
    chunk.copyWithin(0, at, client.filled); // at most one unfinished frame, usually a few bytes
    client.filled -= at;
  }

  /** Clients that found the pool empty get their turn once chunks came back. */
  resumeStarved(): void {
    for (const client of this.starved) {
      this.starved.delete(client);
      if (!client.closed) this.readUntilEagain(client);
      if (this.starved.has(client)) return; // the pool is empty again: the rest keep waiting
    }
  }

  /**
   * Queues each delivery on its client. A queue past its bound means the peer is not reading: it
   * is dropped rather than allowed to grow our memory. Clients that had nothing queued are written
   * to at once; the others are already waiting for EPOLLOUT.
   */
  private deliver(deliveries: Delivery[]): void {
    const toFlush = new Set<Client>();
    for (const { to, bytes, close } of deliveries) {
      const client = this.clients.get(to);
      if (client === undefined) continue;
      const wasIdle = !client.conn.wantsWrite;
      if (!client.conn.queue(bytes)) {
        this.dropSlowConsumer(client);
        continue;
      }
      if (close) client.conn.closeAfterFlush = true;
      if (wasIdle) toFlush.add(client);
    }
    for (const client of toFlush) if (!client.closed) this.flush(client);
  }

  /** Writes what the socket takes, then watches for EPOLLOUT only if something is left. */
  private flush(client: Client): void {
    if (client.conn.flush(this.proc) === 'close') return this.disconnect(client);
    this.watchWrites(client, client.conn.wantsWrite);
  }

  private watchWrites(client: Client, want: boolean): void {
    if (client.watchingWrites === want) return; // no syscall when nothing changes
    client.watchingWrites = want;
    this.ctl(EPOLL_CTL_MOD, client.fd, EPOLLIN | EPOLLET | (want ? EPOLLOUT : 0), client);
  }

  private dropSlowConsumer(client: Client): void {
    // Best effort: a peer this far behind is rarely reading, so this write usually finds no room.
    // Only at a frame boundary: mid-frame, the ERROR's bytes would land inside the half-written frame.
    if (!client.conn.midFrame) {
      this.proc.write(client.fd, errorFrame('slow_consumer', `more than ${this.maxOutboundBytes} bytes waited for you to read them`));
    }
    this.disconnect(client);
  }

  private disconnect(client: Client): void {
    if (client.closed) return;
    client.closed = true;
    this.clients.delete(client.fd);
    this.starved.delete(client);
    // TODO(step 8): a client that leaves mid-frame still holds its chunk — give it back.
    // close() also takes the fd out of the epoll interest list: no EPOLL_CTL_DEL needed.
    this.proc.close(client.fd);
    // Leave before anything can reuse the fd number, then tell the others.
    this.deliver(this.room.leave(client.fd));
  }

  closeAll(): void {
    for (const client of this.clients.values()) {
      client.closed = true;
      // TODO(step 8): stopping — every borrowed chunk goes back to the pool.
      this.proc.close(client.fd);
    }
    this.clients.clear();
    this.starved.clear();
    if (this.listener >= 0) this.proc.close(this.listener);
    this.proc.close(this.spare);
    this.proc.close(this.epfd);
  }

  private ctl(op: number, fd: number, events: number, data: unknown): void {
    check(`epoll_ctl(fd ${fd})`, this.proc.epoll_ctl(this.epfd, op, fd, { events, data }));
  }
}

/** A frame header's length (big-endian). Throws FrameError for 0 or more than MAX_FRAME_LENGTH. */
function frameLength(buf: Uint8Array, at: number): number {
  const length = ((buf[at]! << 24) >>> 0) + (buf[at + 1]! << 16) + (buf[at + 2]! << 8) + buf[at + 3]!;
  if (length === 0) throw new FrameError('zero_length', 'frame length 0: a frame holds at least its type byte');
  if (length > MAX_FRAME_LENGTH) throw new FrameError('too_long', `frame length ${length} exceeds the limit of ${MAX_FRAME_LENGTH}`);
  return length;
}

function check(what: string, result: number): number {
  if (result < 0) throw new Error(`${what} failed: ${errnoName(result)}`);
  return result;
}
