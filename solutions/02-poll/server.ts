// Stage 02 — the same chat on poll(). The fd_set's 1024-bit wall is gone: poll() takes an array of
// { fd, events, revents }, as long as you like. The array is yours to maintain as clients come and
// go — and removing entries while you walk it is where the classic bug lives. poll() still looks
// at every entry on every call: O(n) per wake-up, however few fds are busy.
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
    for (;;) {
      const fd = proc.accept4(listener, SOCK_NONBLOCK);
      if (fd === -EAGAIN) return;
      if (fd < 0) throw new Error(`accept4 failed: ${errnoName(-fd)}`);
      conns.set(fd, new Connection(fd, maxOutboundBytes));
      pollfds.push({ fd, events: POLLIN, revents: 0 }); // examined this pass too: revents 0, nothing to do
      send(room.join(fd));
    }
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
    const conn = conns.get(entry.fd);
    if (conn === undefined || doomed.has(entry.fd)) return false;
    const { revents } = entry;
    if (revents & POLLNVAL) return false; // not an open fd: our bookkeeping slipped; drop the slot
    // POLLHUP and POLLERR come whether asked for or not; read() then says how the peer left.
    if (revents & (POLLIN | POLLHUP | POLLERR) && !onReadable(conn)) return false;
    if (revents & POLLOUT && conn.flush(proc) === 'close') return false;
    return !doomed.has(entry.fd);
  }

  /**
   * Closes connections doomed after the scan had passed their slot (a queue overflowed when a
   * later connection left) — now, not at whatever wake-up comes next: the room may stay quiet.
   */
  function closeDoomed(): void {
    while (doomed.size > 0) {
      for (let j = pollfds.length - 1; j >= 1; j--) {
        const fd = pollfds[j]!.fd;
        if (!doomed.has(fd)) continue;
        closeConnection(fd);
        pollfds[j] = pollfds[pollfds.length - 1]!;
        pollfds.pop();
      }
    }
  }

  try {
    while (!signal.aborted) {
      closeDoomed();
      // Ask for POLLOUT only while bytes wait; otherwise poll() returns at once, every time.
      for (let i = 1; i < pollfds.length; i++) {
        const entry = pollfds[i]!;
        entry.events = conns.get(entry.fd)!.wantsWrite ? POLLIN | POLLOUT : POLLIN;
      }

      const ready = await proc.poll(pollfds, TICK_MS); // the kernel looks at every entry: O(n)
      if (ready < 0) throw new Error(`poll failed: ${errnoName(-ready)}`);
      if (ready === 0) continue;

      if (pollfds[0]!.revents & POLLIN) acceptAll();
      let i = 1;
      while (i < pollfds.length) {
        const entry = pollfds[i]!;
        if (entry.revents === 0 && !doomed.has(entry.fd)) {
          i++;
          continue;
        }
        if (service(entry)) {
          i++;
          continue;
        }
        closeConnection(entry.fd);
        // Swap-delete: the last entry moves into slot i. It has not been examined yet, so do not
        // advance i — skipping it would ignore its events until the next wake-up.
        pollfds[i] = pollfds[pollfds.length - 1]!;
        pollfds.pop();
      }
    }
  } finally {
    for (const fd of conns.keys()) proc.close(fd);
    proc.close(listener);
  }
}
