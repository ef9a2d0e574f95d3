// Stage 03: the chat on epoll. Every socket is registered once, when it opens; epoll_wait then
// returns only the sockets that have something to say, so a wake-up costs the same with ten idle
// clients or ten thousand. Clients are edge-triggered (EPOLLET): an event means "something changed",
// so each one is drained until EAGAIN. EPOLLOUT is in a client's registration only while bytes wait
// in its outbound queue, and that queue is bounded: a client that stops reading is dropped. At the
// fd limit (EMFILE) a newcomer is turned away with ERROR server_full through a spare fd, so the
// level-triggered listener never spins.
import {
  EAGAIN, EINTR, EPOLLERR, EPOLLET, EPOLLHUP, EPOLLIN, EPOLLOUT, EPOLL_CTL_ADD, EPOLL_CTL_MOD,
  SOCK_NONBLOCK, errnoName, type EpollEvent, type Process,
} from '#kernel/index.ts';
import { ChatRoom, errorFrame, type Delivery } from '#kit/chat.ts';
import { Connection } from '#kit/connection.ts';
import { openListener, raiseFdLimit } from '#kit/listen.ts';
import { DEFAULT_MAX_OUTBOUND_BYTES, type ServerOptions } from '#kit/server-options.ts';
import { FrameError } from '#server/protocol/frame.ts';

/** Events one epoll_wait hands back at most; more ready sockets simply wait for the next call. */
const MAX_EVENTS = 256;
/** epoll_wait gives up after this long, so the loop comes round to see options.signal. */
const WAKE_AT_LEAST_EVERY_MS = 500;
/** One read's worth: a socket holding more is read again, until EAGAIN. */
const READ_BUFFER_BYTES = 64 * 1024;

/** The `data` of the listening socket's registration; clients carry their Client object. */
const LISTENER = 'listener';

interface Client {
  readonly fd: number;
  readonly conn: Connection;
  /** Whether EPOLLOUT is in this socket's registration right now. */
  watchingWrites: boolean;
  /** Set when the fd is closed: later events of the same batch may still carry this object. */
  closed: boolean;
}

export async function runServer(proc: Process, options: ServerOptions): Promise<void> {
  raiseFdLimit(proc); // ten thousand clients need more than the default 1,024 fds
  const server = new EpollChatServer(proc, options.maxOutboundBytes ?? DEFAULT_MAX_OUTBOUND_BYTES);
  server.listen(options.port);
  try {
    const events: EpollEvent[] = [];
    while (!options.signal.aborted) {
      const n = await proc.epoll_wait(server.epfd, events, MAX_EVENTS, WAKE_AT_LEAST_EVERY_MS);
      if (n === -EINTR) continue;
      if (n < 0) throw new Error(`epoll_wait failed: ${errnoName(n)}`);
      for (let i = 0; i < n; i++) server.dispatch(events[i]!);
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
  /** One buffer for every read: the decoder copies what it keeps. */
  private readonly readBuffer = new Uint8Array(READ_BUFFER_BYTES);

  constructor(
    private readonly proc: Process,
    private readonly maxOutboundBytes: number,
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
      const client: Client = { fd, conn: new Connection(fd, this.maxOutboundBytes), watchingWrites: false, closed: false };
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
      const n = this.proc.read(client.fd, this.readBuffer);
      if (n === -EAGAIN) return;
      if (n <= 0) return this.disconnect(client); // 0: the peer closed; < 0: reset
      if (client.conn.closeAfterFlush) continue; // saying goodbye: what it sends now is dropped
      let frames;
      try {
        frames = client.conn.receive(this.readBuffer.subarray(0, n));
      } catch (err) {
        if (!(err instanceof FrameError)) throw err;
        this.deliver(this.room.refuse(client.fd, err));
        return; // the stream has lost its framing: nothing more it sends can be trusted
      }
      for (const frame of frames) {
        this.deliver(this.room.handle(client.fd, frame));
        if (client.closed) return;
        if (client.conn.closeAfterFlush) break; // e.g. an unknown frame type: no more requests from it
      }
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
    // close() also takes the fd out of the epoll interest list: no EPOLL_CTL_DEL needed.
    this.proc.close(client.fd);
    // Leave before anything can reuse the fd number, then tell the others.
    this.deliver(this.room.leave(client.fd));
  }

  closeAll(): void {
    for (const client of this.clients.values()) {
      client.closed = true;
      this.proc.close(client.fd);
    }
    this.clients.clear();
    if (this.listener >= 0) this.proc.close(this.listener);
    this.proc.close(this.spare);
    this.proc.close(this.epfd);
  }

  private ctl(op: number, fd: number, events: number, data: unknown): void {
    check(`epoll_ctl(fd ${fd})`, this.proc.epoll_ctl(this.epfd, op, fd, { events, data }));
  }
}

function check(what: string, result: number): number {
  if (result < 0) throw new Error(`${what} failed: ${errnoName(result)}`);
  return result;
}
