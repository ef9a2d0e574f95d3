// Stage 02 — the same chat on poll(). The fd_set's 1024-bit wall is gone: poll() takes an array of
// { fd, events, revents }, as long as you like. The array is yours to maintain as clients come and
// go — and removing entries while you walk it is where the classic bug lives. poll() still looks
// at every entry on every call: O(n) per wake-up, however few fds are busy.
//
// Given: the chat rules, each connection's framing and outbound queue, reading one connection
// (onReadable — you wrote its twin in stage 01). Yours: the four TODOs. `npm test -- 02` grades them.
import {
  EAGAIN, POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, SOCK_NONBLOCK, errnoName, type PollFd, type Process,
} from '#kernel/index.ts';
import { FrameError } from '#server/protocol/frame.ts';
import { ChatRoom, type Delivery } from '#kit/chat.ts';
import { Connection, deliver } from '#kit/connection.ts';
import { openListener, raiseFdLimit } from '#kit/listen.ts';
import type { ServerOptions } from '#kit/server-options.ts';

/** poll() timeout: the loop comes round at least this often to notice the stop signal. */
const TICK_MS = 1000;
const READ_BUFFER_BYTES = 64 * 1024;

export async function runServer(proc: Process, { port, signal, maxOutboundBytes }: ServerOptions): Promise<void> {
  raiseFdLimit(proc); // poll() has no FD_SETSIZE: the fd limit is the only ceiling left
  const listener = openListener(proc, port);
  const room = new ChatRoom();
  const conns = new Map<number, Connection>();
  const readBuffer = new Uint8Array(READ_BUFFER_BYTES);
  // Slot 0 is the listener; one slot per connection after it, in no particular order.
  const pollfds: PollFd[] = [{ fd: listener, events: POLLIN, revents: 0 }];
  // Connections that must close (a failed write, an overflowing queue, a goodbye sent). Only the
  // scan removes slots, so it closes them when it reaches their slot.
  const doomed = new Set<number>();

  const send = (deliveries: Delivery[]): void => {
    for (const fd of deliver(proc, deliveries, conns)) doomed.add(fd);
  };

  function closeConnection(fd: number): void {
    conns.delete(fd);
    doomed.delete(fd);
    proc.close(fd);
    send(room.leave(fd));
  }

  function acceptAll(): void {
    // TODO 2: accept4(listener, SOCK_NONBLOCK) until -EAGAIN. Each new fd gets a Connection, a slot
    // at the end of pollfds ({ fd, events: POLLIN, revents: 0 }), and send(room.join(fd)).
    // No FD_SETSIZE check this time: that wall belonged to select().
    throw new Error('TODO: acceptAll');
  }

  /** Reads once. False when the peer is gone (EOF, reset, error). */
  function onReadable(conn: Connection): boolean {
    const n = proc.read(conn.fd, readBuffer);
    if (n === -EAGAIN) return true;
    if (n <= 0) return false;
    let deliveries: Delivery[];
    try {
      deliveries = conn.receive(readBuffer.subarray(0, n)).flatMap((frame) => room.handle(conn.fd, frame));
    } catch (err) {
      if (!(err instanceof FrameError)) throw err;
      deliveries = room.refuse(conn.fd, err);
    }
    send(deliveries);
    return true;
  }

  /** Handles one entry's revents. False when its connection must close. */
  function service(entry: PollFd): boolean {
    // TODO 3: false if the connection is unknown or doomed. Then look at entry.revents, bit by bit:
    //   POLLNVAL          the fd is not open — drop the slot;
    //   POLLIN, POLLHUP, POLLERR  read (onReadable tells you whether the peer is still there);
    //   POLLOUT           conn.flush(proc), and 'close' means close.
    // Finally, false if what you sent meanwhile doomed it.
    throw new Error(`TODO: service fd ${entry.fd}`);
  }

  try {
    while (!signal.aborted) {
      // TODO 1: before each poll(), set every connection's events: POLLIN, plus POLLOUT only while
      // conn.wantsWrite. Then `await proc.poll(pollfds, TICK_MS)`: < 0 is an error, 0 a timeout.
      //
      // TODO 4: the scan. Listener slot readable → acceptAll(). Then walk slots 1… with an index i:
      // an entry with nothing to do (revents 0 and not doomed) → next; service(entry) true → next;
      // false → closeConnection(entry.fd) and remove the slot by swap-delete: move the last entry
      // into slot i and pop. Careful what i is next (the README's "Beej's bug" section).
      throw new Error('TODO: the poll loop');
    }
  } finally {
    for (const fd of conns.keys()) proc.close(fd);
    proc.close(listener);
  }
}
