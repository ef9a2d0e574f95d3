// Stage 04: the chat loop written once, against the Poller interface. It never names select,
// poll, epoll or kqueue: `backend` picks one (kqueue by default) and the same code runs on all four.
// What it needs from a backend is only the contract in poller.ts; what it guarantees in return —
// read until EAGAIN, write until the queue is empty or EAGAIN, watch writes only while bytes are
// queued, remove() before close() — makes it correct on level- and edge-triggered backends alike.
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
      for (const ready of await poller.wait(WAKE_AT_LEAST_EVERY_MS)) server.dispatch(ready);
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
    check(`watching the listener (fd ${this.listener})`, this.poller.add(this.listener, READS_ONLY));
  }

  dispatch(ready: Ready): void {
    if (ready.fd === this.listener) return this.acceptAll();
    // Looked up by fd: a client closed earlier in this batch is gone from the map (and if a new
    // client got its number, a spurious read or flush finds EAGAIN or an empty queue: harmless).
    const client = this.clients.get(ready.fd);
    if (client === undefined) return;
    if (ready.readable) this.readUntilEagain(client);
    if (!client.closed && ready.writable) this.flush(client);
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
      if (this.poller.add(fd, READS_ONLY) < 0) {
        // This backend cannot watch the fd (select: fd ≥ 1024). Say so and hang up; everyone else
        // carries on.
        this.proc.write(fd, errorFrame('server_full', `the ${this.poller.name} server cannot watch fd ${fd}`));
        this.proc.close(fd);
        continue;
      }
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
    const want = client.conn.wantsWrite;
    if (client.watchingWrites === want) return;
    client.watchingWrites = want;
    check(`watching fd ${client.fd}`, this.poller.modify(client.fd, want ? READS_AND_WRITES : READS_ONLY));
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
    // remove() before close(): select and poll would otherwise keep a closed fd in their sets, and
    // kqueue could apply a pending change to the next socket that gets this number.
    this.poller.remove(client.fd);
    this.proc.close(client.fd);
    this.deliver(this.room.leave(client.fd));
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
