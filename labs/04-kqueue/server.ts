// Stage 04: the chat loop written once, against the Poller interface. It never names select,
// poll, epoll or kqueue: `backend` picks one (kqueue by default) and the same code runs on all four.
// What it needs from a backend is only the contract in poller.ts; what it guarantees in return —
// read until EAGAIN, write until the queue is empty or EAGAIN, watch writes only while bytes are
// queued, remove() before close() — makes it correct on level- and edge-triggered backends alike.
//
// Your work is marked TODO (README.md, step 4). Reading and delivering are as in stage 03.
import { EAGAIN, SOCK_NONBLOCK, errnoName, type Process } from '#kernel/index.ts';
import { ChatRoom, errorFrame, type Delivery } from '#kit/chat.ts';
import { Connection } from '#kit/connection.ts';
import { openListener, raiseFdLimit } from '#kit/listen.ts';
import { DEFAULT_MAX_OUTBOUND_BYTES, type RunServer, type ServerOptions } from '#kit/server-options.ts';
import { FrameError } from '#server/protocol/frame.ts';
import { createPoller } from './backends.ts';
import type { BackendName, Interest, Poller, Ready } from './poller.ts';

/** wait() gives up after this long, so the loop comes round to see options.signal. */
const WAKE_AT_LEAST_EVERY_MS = 500;
/** One read's worth: a socket holding more is read again, until EAGAIN. */
const READ_BUFFER_BYTES = 64 * 1024;

const READS_ONLY: Interest = { readable: true, writable: false };
const READS_AND_WRITES: Interest = { readable: true, writable: true };

export interface PollerServerOptions extends ServerOptions {
  /** Which mechanism the Poller uses; kqueue unless told otherwise. */
  backend?: BackendName;
}

interface Client {
  readonly fd: number;
  readonly conn: Connection;
  /** Whether the poller watches this fd for writes right now. */
  watchingWrites: boolean;
  closed: boolean;
}

export async function runServer(proc: Process, options: PollerServerOptions): Promise<void> {
  raiseFdLimit(proc);
  const poller = createPoller(proc, options.backend ?? 'kqueue');
  const server = new PollerChatServer(proc, poller, options.maxOutboundBytes ?? DEFAULT_MAX_OUTBOUND_BYTES);
  try {
    server.listen(options.port);
    while (!options.signal.aborted) {
      // TODO(step 4): wait on the poller (timeout WAKE_AT_LEAST_EVERY_MS) and dispatch each Ready.
      void server;
      throw new Error('TODO: the Poller loop (step 4)');
    }
  } finally {
    server.closeAll();
    poller.close();
  }
}

/** The same server bound to one backend, in the shape every stage server has. */
export function createServer(backend: BackendName): RunServer {
  return (proc, options) => runServer(proc, { ...options, backend });
}

class PollerChatServer {
  private listener = -1;
  /** An fd held in reserve for the fd limit (see refuseNewcomer). */
  private spare: number;
  private readonly clients = new Map<number, Client>();
  private readonly room = new ChatRoom();
  /** One buffer for every read: the decoder copies what it keeps. */
  private readonly readBuffer = new Uint8Array(READ_BUFFER_BYTES);

  constructor(
    private readonly proc: Process,
    private readonly poller: Poller,
    private readonly maxOutboundBytes: number,
  ) {
    this.spare = this.reserveSpare();
  }

  listen(port: number): void {
    this.listener = openListener(this.proc, port);
    // TODO(step 4): watch the listener for reads (check() the result).
    throw new Error('TODO: watch the listener (step 4)');
  }

  dispatch(ready: Ready): void {
    // TODO(step 4): the listener → acceptAll(). Otherwise find the client by fd (a client closed
    // earlier in this batch is gone from the map: skip it), read if readable, then flush if
    // writable and still open.
    void ready;
    throw new Error('TODO: dispatch one Ready (step 4)');
  }

  /** Edge-triggered backends announce the listener once per change: take every pending connection. */
  private acceptAll(): void {
    for (;;) {
      const fd = this.proc.accept4(this.listener, SOCK_NONBLOCK);
      if (fd === -EAGAIN) return;
      if (fd < 0) {
        // EMFILE: the newcomer stays in the backlog and the listener stays ready — on select and
        // poll it would be reported again at once, forever. Turn it away instead.
        if (this.refuseNewcomer()) continue;
        return;
      }
      // TODO(step 4): watch the new fd for reads. If the poller refuses it (select: fd ≥ 1024),
      // write ERROR server_full to it (errorFrame('server_full', …)), close it and go on to the next.
      throw new Error('TODO: watch a new client (step 4)');
      const client: Client = { fd, conn: new Connection(fd, this.maxOutboundBytes), watchingWrites: false, closed: false };
      this.clients.set(fd, client);
      this.deliver(this.room.join(fd));
    }
  }

  /**
   * The spare-fd trick, at the fd limit: give back the reserved fd so that accept4 can take the
   * newcomer, tell it the server is full, hang up, reserve the fd again. Returns false when nobody
   * was waiting after all.
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

  /** One fd in reserve for the day accept4 says EMFILE (a real server opens /dev/null). */
  private reserveSpare(): number {
    const fd = this.proc.dup(0);
    check('reserving a spare fd', fd);
    return fd;
  }

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
        return;
      }
      for (const frame of frames) {
        this.deliver(this.room.handle(client.fd, frame));
        if (client.closed) return;
        if (client.conn.closeAfterFlush) break;
      }
    }
  }

  /** Queues each delivery; drops a client whose queue would pass its bound; flushes the idle ones. */
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

  private flush(client: Client): void {
    if (client.conn.flush(this.proc) === 'close') return this.disconnect(client);
    // TODO(step 4): watch writes only while bytes are queued (client.conn.wantsWrite): when that
    // differs from client.watchingWrites, poller.modify() to READS_AND_WRITES or READS_ONLY.
    void [READS_AND_WRITES];
    throw new Error('TODO: watch writes while bytes are queued (step 4)');
  }

  private dropSlowConsumer(client: Client): void {
    // Best effort, and only at a frame boundary: mid-frame, its bytes would land inside that frame.
    if (!client.conn.midFrame) {
      this.proc.write(client.fd, errorFrame('slow_consumer', `more than ${this.maxOutboundBytes} bytes waited for you to read them`));
    }
    this.disconnect(client);
  }

  private disconnect(client: Client): void {
    if (client.closed) return;
    client.closed = true;
    this.clients.delete(client.fd);
    // TODO(step 4): when this returns, three things hold:
    //  - the poller no longer watches the fd, and the fd is closed — in that order: why? (README, step 4);
    //  - the client has left the room, and everyone still in it hears PRESENCE leave: this.room.leave(fd)
    //    returns those deliveries, for deliver() (stage 03's disconnect does the same);
    //  - nothing of this client is left behind for the next socket that gets its fd number.
    throw new Error('TODO: disconnect (step 4)');
  }

  closeAll(): void {
    for (const client of this.clients.values()) {
      client.closed = true;
      this.poller.remove(client.fd);
      this.proc.close(client.fd);
    }
    this.clients.clear();
    if (this.listener >= 0) {
      this.poller.remove(this.listener);
      this.proc.close(this.listener);
    }
    this.proc.close(this.spare);
  }
}

function check(what: string, result: number): void {
  if (result < 0) throw new Error(`${what} failed: ${errnoName(result)}`);
}
