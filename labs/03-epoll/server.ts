// Stage 03: the chat on epoll. Every socket is registered once, when it opens; epoll_wait then
// returns only the sockets that have something to say, so a wake-up costs the same with ten idle
// clients or ten thousand. Clients are edge-triggered (EPOLLET): an event means "something changed",
// so each one is drained until EAGAIN. EPOLLOUT is in a client's registration only while bytes wait
// in its outbound queue, and that queue is bounded: a client that stops reading is dropped.
//
// Your work is marked TODO. README.md walks through it in order: a level-triggered loop, then
// writes, then edge-triggered reads, then the bound, then the fd limit.
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
      // TODO(step 1): wait for events on server.epfd (at most MAX_EVENTS, timeout
      // WAKE_AT_LEAST_EVERY_MS), retry on -EINTR, throw on any other error, and hand each of the
      // n events to server.dispatch().
      void events;
      throw new Error('TODO: the epoll_wait loop (step 1)');
    }
  } finally {
    server.closeAll();
  }
}

class EpollChatServer {
  readonly epfd: number;
  private listener = -1;
  /** An fd held in reserve for the fd limit (see refuseNewcomer, step 5). */
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
    // TODO(step 1): event.data is the Client registered for this socket. Skip it if it was closed
    // earlier in this batch (its fd number may already belong to someone new). Read when the event
    // has EPOLLIN, EPOLLERR or EPOLLHUP (the read tells which); flush when it has EPOLLOUT (step 2)
    // and the client is still open.
    void [EPOLLERR, EPOLLHUP, EPOLLOUT];
    throw new Error('TODO: dispatch one epoll event (step 1)');
  }

  private acceptAll(): void {
    for (;;) {
      const fd = this.proc.accept4(this.listener, SOCK_NONBLOCK);
      if (fd === -EAGAIN) return; // the backlog is empty
      if (fd < 0) {
        // EMFILE: no fd for the newcomer, and it stays in the backlog. Returning here makes the
        // level-triggered listener spin (README, step 5): turn the newcomer away instead.
        if (this.refuseNewcomer()) continue;
        return;
      }
      const client: Client = { fd, conn: new Connection(fd, this.maxOutboundBytes), watchingWrites: false, closed: false };
      this.clients.set(fd, client);
      this.register(client);
      this.deliver(this.room.join(fd));
    }
  }

  /**
   * The spare-fd trick, at the fd limit: give back the fd held in reserve so that accept4 can take
   * the newcomer, tell it the server is full, hang up, and reserve the fd again. Returns false when
   * nobody was waiting after all.
   */
  private refuseNewcomer(): boolean {
    // TODO(step 5): close this.spare; accept4 the newcomer (non-blocking) — it gets the fd you just
    // gave back. If that worked, write it errorFrame('server_full', …) and close it. Either way,
    // reserve the spare again (this.reserveSpare()), and return whether someone was refused
    // (accept4 may say EAGAIN: nobody was waiting).
    throw new Error('TODO: refuse a newcomer at the fd limit (step 5)');
  }

  /**
   * One fd in reserve for the day accept4 says EMFILE. A real server opens /dev/null; the emulator
   * has no files, so a duplicate of stdin does the same job.
   */
  private reserveSpare(): number {
    return check('reserving a spare fd', this.proc.dup(0));
  }

  /** Adds a new client to the epoll interest list, once, for good. */
  private register(client: Client): void {
    // TODO(step 1, then step 3): EPOLL_CTL_ADD the client's fd with its Client object as data.
    // Step 1: EPOLLIN. Step 3: EPOLLIN | EPOLLET. No EPOLLOUT: nothing is queued yet.
    void [client, EPOLL_CTL_ADD, EPOLLET];
    throw new Error('TODO: register a client with epoll (step 1)');
  }

  /** Edge-triggered: this event will not come again for bytes already here, so take them all now. */
  private readUntilEagain(client: Client): void {
    // TODO(step 1, then step 3): read into this.readBuffer. Step 1 may read once; step 3 must loop
    // until read() returns -EAGAIN. 0 or another error: disconnect. Feed the bytes to
    // client.conn.receive(); a FrameError means deliver(this.room.refuse(fd, err)) and stop.
    // Each frame goes to this.room.handle(fd, frame) and its deliveries to deliver(). Stop handling
    // frames once the client is closed or client.conn.closeAfterFlush is set (it is being sent away);
    // bytes that still arrive then are read and dropped.
    void [client, FrameError];
    throw new Error('TODO: read from a client (steps 1 and 3)');
  }

  /**
   * Queues each delivery on its client. A queue past its bound means the peer is not reading: it
   * is dropped rather than allowed to grow our memory. Clients that had nothing queued are written
   * to at once; the others are already waiting for EPOLLOUT.
   */
  private deliver(deliveries: Delivery[]): void {
    // TODO(steps 2 and 4): for each delivery, find the client (skip unknown fds). client.conn.queue()
    // returns false when the bytes would pass the bound: dropSlowConsumer() (step 4). Set
    // conn.closeAfterFlush for a delivery with `close`. Then flush every client whose queue was
    // empty before this call (one that already had bytes waiting is waiting for EPOLLOUT).
    void deliveries;
    throw new Error('TODO: deliver frames (step 2)');
  }

  /** Writes what the socket takes, then watches for EPOLLOUT only if something is left. */
  private flush(client: Client): void {
    // TODO(step 2): client.conn.flush(this.proc) writes until the queue is empty or the socket is
    // full; 'close' means disconnect. Then watchWrites(client, client.conn.wantsWrite).
    void client;
    throw new Error('TODO: flush a client (step 2)');
  }

  private watchWrites(client: Client, want: boolean): void {
    // TODO(step 2, then step 3): only when `want` differs from client.watchingWrites: EPOLL_CTL_MOD
    // the fd to EPOLLIN (step 3: EPOLLIN | EPOLLET), plus EPOLLOUT when `want`, and remember it in
    // client.watchingWrites.
    void [client, want, EPOLL_CTL_MOD];
    throw new Error('TODO: arm and disarm EPOLLOUT (step 2)');
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
