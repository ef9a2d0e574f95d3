// mistake: puts every connection in writefds every time, so select() returns at once (sockets are nearly always writable) and the loop never sleeps
// replaces: server.ts
// Stage 01 — the chat on a select() loop, the way the C++ wizz_server's TcpServer::run does it:
// every time round, rebuild the fd_sets from scratch, ask select() which fds are ready, then walk
// every connection testing FD_ISSET. Simple, portable — and O(highest fd) per wake-up, with a
// hard wall at FD_SETSIZE (1024) because an fd_set has exactly 1024 bits.
import {
  EAGAIN, FD_ISSET, FD_SET, FD_SETSIZE, FD_ZERO, FdSet, SOCK_NONBLOCK, errnoName, type Process,
} from '#kernel/index.ts';
import { FrameError } from '#server/protocol/frame.ts';
import { ChatRoom, errorFrame, type Delivery } from '#kit/chat.ts';
import { Connection, deliver } from '#kit/connection.ts';
import { openListener, raiseFdLimit } from '#kit/listen.ts';
import type { ServerOptions } from '#kit/server-options.ts';

/** select() timeout: the loop comes round at least this often to notice the stop signal. */
const TICK_MS = 1000;
const READ_BUFFER_BYTES = 64 * 1024;

export async function runServer(proc: Process, { port, signal, maxOutboundBytes }: ServerOptions): Promise<void> {
  raiseFdLimit(proc); // like `ulimit -n 65536`: now accept() can hand us fds past 1023
  const listener = openListener(proc, port);
  const room = new ChatRoom();
  const conns = new Map<number, Connection>();
  const readBuffer = new Uint8Array(READ_BUFFER_BYTES); // one buffer reused: the decoder copies what it keeps
  const readfds = new FdSet();
  const writefds = new FdSet();

  /** Hands deliveries to their connections and closes the ones that must go. */
  const send = (deliveries: Delivery[]): void => {
    for (const fd of deliver(proc, deliveries, conns)) closeConnection(fd);
  };

  function closeConnection(fd: number): void {
    if (!conns.delete(fd)) return; // already closed earlier in this pass
    proc.close(fd);
    send(room.leave(fd));
  }

  function acceptAll(): void {
    for (;;) {
      const fd = proc.accept4(listener, SOCK_NONBLOCK);
      if (fd === -EAGAIN) return; // backlog drained
      if (fd < 0) throw new Error(`accept4 failed: ${errnoName(-fd)}`);
      if (fd >= FD_SETSIZE) {
        // An fd_set has no bit for this fd: FD_SET would write past its end. Refuse it politely.
        proc.write(fd, errorFrame('server_full', `this select() server can only watch fds below ${FD_SETSIZE}`));
        proc.close(fd);
        continue;
      }
      conns.set(fd, new Connection(fd, maxOutboundBytes));
      send(room.join(fd));
    }
  }

  function onReadable(conn: Connection): void {
    const n = proc.read(conn.fd, readBuffer);
    if (n === -EAGAIN) return;
    if (n <= 0) return closeConnection(conn.fd); // 0: the peer closed; < 0: reset or error
    let deliveries: Delivery[];
    try {
      deliveries = conn.receive(readBuffer.subarray(0, n)).flatMap((frame) => room.handle(conn.fd, frame));
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      deliveries = room.refuse(conn.fd, err);
    }
    send(deliveries);
  }

  try {
    while (!signal.aborted) {
      // 1. select() overwrites the sets with its answer, so they are rebuilt every time: O(n).
      FD_ZERO(readfds);
      FD_ZERO(writefds);
      FD_SET(listener, readfds);
      let maxfd = listener;
      for (const [fd, conn] of conns) {
        FD_SET(fd, readfds);
        FD_SET(fd, writefds);
        if (fd > maxfd) maxfd = fd;
      }

      // 2. Sleep until something is ready; the kernel scans every bit below maxfd + 1.
      const ready = await proc.select(maxfd + 1, readfds, writefds, null, TICK_MS);
      if (ready < 0) throw new Error(`select failed: ${errnoName(-ready)}`);
      if (ready === 0) continue; // timeout: go round to check the signal

      // 3. Walk every connection again asking FD_ISSET: O(n) once more, however few are ready.
      if (FD_ISSET(listener, readfds)) acceptAll();
      for (const [fd, conn] of conns) {
        // Connections accepted just now were not in the sets; select cleared their bits.
        if (FD_ISSET(fd, readfds)) onReadable(conn);
        if (conns.has(fd) && FD_ISSET(fd, writefds) && conn.flush(proc) === 'close') closeConnection(fd);
      }
    }
  } finally {
    for (const fd of conns.keys()) proc.close(fd);
    proc.close(listener);
  }
}
