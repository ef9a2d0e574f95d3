// Stage 01 — the chat on a select() loop, the way the C++ wizz_server's TcpServer::run does it:
// every time round, rebuild the fd_sets from scratch, ask select() which fds are ready, then walk
// every connection testing FD_ISSET. Simple, portable — and O(highest fd) per wake-up, with a
// hard wall at FD_SETSIZE (1024) because an fd_set has exactly 1024 bits.
//
// Given: the chat rules (ChatRoom), each connection's framing and outbound queue (Connection,
// deliver), the listener setup. Yours: the loop — the four TODOs. `npm test -- 01` grades them.
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
    // TODO 2: forget the Connection, close the fd, and send what room.leave(fd) returns.
    // It may be called twice for one fd in a pass: the second call must do nothing.
    throw new Error(`TODO: closeConnection(${fd})`);
  }

  function acceptAll(): void {
    // TODO 3: accept4(listener, SOCK_NONBLOCK) until it returns -EAGAIN. For each new fd: refuse it
    // if select() cannot watch it (fd >= FD_SETSIZE: write errorFrame('server_full', …), close);
    // otherwise remember a new Connection(fd, maxOutboundBytes) and send(room.join(fd)).
    throw new Error('TODO: acceptAll');
  }

  function onReadable(conn: Connection): void {
    // TODO 2: read into readBuffer. -EAGAIN: nothing after all. 0 or another error: the peer is
    // gone, close. n > 0: conn.receive(readBuffer.subarray(0, n)) gives frames; room.handle each,
    // and send the deliveries. A FrameError means the peer broke the framing: send room.refuse(…).
    throw new Error(`TODO: onReadable(${conn.fd})`);
  }

  try {
    while (!signal.aborted) {
      // TODO 1: the loop, as TcpServer::run does it —
      //   a. FD_ZERO both sets; FD_SET the listener and every connection in readfds, and in writefds
      //      only the connections with bytes waiting (conn.wantsWrite). Track the highest fd.
      //   b. await proc.select(maxfd + 1, readfds, writefds, null, TICK_MS); < 0 is an error
      //      (errnoName helps), 0 a timeout: go round again so the signal gets checked.
      //   c. FD_ISSET(listener, readfds) → acceptAll(); then for each connection: readable →
      //      onReadable; still open and writable → conn.flush(proc), and close it if that says 'close'.
      throw new Error('TODO: the select loop');
    }
  } finally {
    // TODO 4: close every fd this server opened: each connection's, and the listener's.
    proc.close(listener);
  }
}
