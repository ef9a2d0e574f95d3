// Grader for stage 01: the chat on a select() loop. In order: it serves the chat; it survives
// hostile clients (including the one that lands on fd 1024); it does the O(maxfd) work a select
// loop really does, and sleeps when nothing happens. Every run uses a virtual clock: no wall time.
import { describe, expect, it } from 'vitest';
import { FD_SETSIZE } from '#kernel/index.ts';
import { MessageType } from '#kit/chat.ts';
import { SlowReader } from '#kit/scenario/slow-reader.ts';
import { FrameDecoder, encodeFrame } from '#server/protocol/frame.ts';
import { StageRun, type Client } from '#kit/grading.ts';
import { GOODBYE_SOCKETS, goodbyeAfterQueued } from '#kit/goodbye.ts';
import { runServer } from '#stage/01-select/server.ts';

/** Runs `body` against a fresh server and always stops it, even when an expectation fails. */
async function withServer(body: (stage: StageRun) => Promise<void>, options: ConstructorParameters<typeof StageRun>[1] = {}) {
  const stage = new StageRun(runServer, options);
  try {
    await body(stage);
  } finally {
    await stage.dispose();
  }
}
function header(length: number): Uint8Array {
  const h = new Uint8Array(5);
  new DataView(h.buffer).setUint32(0, length, false);
  return h;
}
const errors = (stage: StageRun, c: Client, code: string) =>
  stage.frames(c).filter((f) => f.type === MessageType.ERROR && f.body.code === code);

// --- 1. correctness ------------------------------------------------------------------------------------
describe('01-select: serves the chat', () => {
  it('delivers each message once to every other client, and answers the sender', () =>
    withServer(async (stage) => {
      const clients = await stage.connect(6);
      for (let round = 0; round < 4; round++) {
        // A different speaker each round: a loop that stopped watching idle fds misses the later ones.
        const from = clients[(round * 5) % clients.length]!;
        const others = clients.filter((c) => c !== from);
        await stage.sayAndWait(from, `round ${round}`, others,
          `every other client to receive message ${round + 1} of 4 — if the first got through and a later one did not, ` +
          `select() no longer watched the sender: it overwrites the sets, rebuild them each time round (hint 1)`);
        await stage.waitFor(() => stage.hasReply(from, `say:round ${round}`), `the OK for message ${round + 1}`);
      }
      for (const [i, c] of clients.entries()) {
        for (let round = 0; round < 4; round++) {
          const spoke = clients[(round * 5) % clients.length] === c;
          expect(stage.heard(c, `round ${round}`).length, `client ${i + 1} got message ${round + 1} that many times`).toBe(spoke ? 0 : 1);
        }
      }
    }));

  it('names connections, renames on LOGIN, and announces joins and leaves', () =>
    withServer(async (stage) => {
      const [a] = await stage.connect(1);
      const [b] = await stage.connect(1);
      const presence = (event: string) => stage.frames(a!).filter((f) => f.type === MessageType.PRESENCE && f.body.event === event);
      await stage.waitFor(() => presence('join').length === 1, 'the first client to hear PRESENCE join for the second');
      expect(String(presence('join')[0]!.body.user)).toMatch(/^guest\d+$/);
      b!.sendFrame(MessageType.LOGIN, { id: 'l', user: 'ada', password: 'x' });
      await stage.waitFor(() => stage.hasReply(b!, 'l'), 'the OK to LOGIN');
      b!.close();
      // LOGIN itself was told as guest<fd> leaving and ada joining; the close is the second leave.
      await stage.waitFor(() => presence('leave').length === 2,
        'PRESENCE leave after a client closed: close the fd *and* tell the room (room.leave) (hint 2)');
      expect(presence('leave')[1]!.body.user).toBe('ada');
    }));

  it('closes the fd of every peer that went away (EOF, half-close or reset)', () =>
    withServer(async (stage) => {
      const clients = await stage.connect(5);
      expect(stage.openFds().length, 'the listener and 5 connections').toBe(6);
      clients[0]!.close();
      clients[1]!.shutdownWrite();
      clients[2]!.reset();
      await stage.waitFor(() => stage.openFds().length === 3,
        'the server to close the 3 connections whose peer left: read() returning 0 (or -ECONNRESET) means close it (hint 2)');
      await stage.sayAndWait(clients[3]!, 'still here', [clients[4]!]);
    }));

  it('stops when the signal aborts, closing every fd it opened', () =>
    withServer(async (stage) => {
      await stage.connect(3);
      await stage.stop();
      expect(stage.openFds(), 'fds still open after runServer resolved (close the listener and every connection)').toEqual([]);
    }));

  it('copes with partial writes: queued bytes go out when the socket is writable again', () =>
    withServer(
      async (stage) => {
        const clients = await stage.connect(3);
        const big = 'x'.repeat(8_000); // far more than a 1 KiB send buffer takes at once
        await stage.sayAndWait(clients[0]!, big, clients.slice(1),
          'a big message to arrive whole: write() took part of it, the rest must wait for writability — ' +
          'FD_SET the connection in writefds while conn.wantsWrite and flush it when select says so (hint 1)');
        await stage.sayAndWait(clients[0]!, 'after the big one', clients.slice(1));
      },
      { sndbuf: 1024, rcvbuf: 1024 },
    ));
});

// --- 2. robustness ---------------------------------------------------------------------------------------
describe('01-select: survives hostile clients', () => {
  it('answers a bad frame with ERROR bad_frame and closes only that connection', () =>
    withServer(async (stage) => {
      const [good, zero, huge] = await stage.connect(3);
      zero!.send(header(0));
      huge!.send(header(0xffffffff)); // announces 4 GiB and never sends it
      await stage.waitFor(() => zero!.closedByPeer && huge!.closedByPeer, 'the server to close both connections that sent bad frames');
      expect(errors(stage, zero!, 'bad_frame').length, 'ERROR bad_frame before closing').toBe(1);
      expect(errors(stage, huge!, 'bad_frame').length, 'ERROR bad_frame before closing').toBe(1);
      await stage.waitFor(() => stage.openFds().length === 2, 'the two bad connections’ fds to be closed');
      const id = stage.ping(good!);
      await stage.waitFor(() => stage.hasReply(good!, id), 'the good client to still be served');
    }));

  it('keeps writing to a client while it is still sending: its queued output is not starved', () =>
    withServer(
      async (stage) => {
        const [talker] = await stage.connect(1);
        // Reads 512 bytes and sends 128 every 4 ms: each tick it is both writable and readable again.
        const slow = new SlowReader(stage.kernel, stage.open('never-reads'));
        try {
          await stage.waitFor(() => stage.frames(talker!).some((f) => f.type === MessageType.PRESENCE), 'the slow client to be accepted (PRESENCE join)');
          slow.send(encodeFrame(MessageType.SAY, { id: 'long', text: 'y'.repeat(4_000) })); // about 130 ms to send
          const big = 'x'.repeat(8_000);
          stage.proc.meter.reset();
          const start = stage.kernel.now();
          talker!.sendFrame(MessageType.SAY, { id: 'big', text: big }); // about 65 ms to read at its pace
          let pendingWhenDone = -1;
          await stage.waitFor(() => {
            const got = new FrameDecoder().push(slow.received).some((f) => f.type === MessageType.ROOM && f.body.text === big);
            if (got && pendingWhenDone < 0) pendingWhenDone = slow.pendingBytes;
            return got;
          }, 'an 8,000-byte message to reach a client that reads slowly while it sends');
          expect(
            pendingWhenDone,
            'the big message reached the slow client only after it had stopped sending: while a client keeps sending, ' +
              `the bytes queued for it must still go out — FD_SET it in writefds while conn.wantsWrite and flush it whenever select says it is writable, also in a wake-up where it is readable too (hint 1)`,
          ).toBeGreaterThan(0);
          // Each 4 ms tick the slow client is readable and writable at once: one wake-up serves both.
          const ticks = Math.ceil((stage.kernel.now() - start) / 4);
          const calls = stage.proc.meter.get('select').calls;
          expect(
            calls,
            `${calls} select() calls during ${ticks} ticks in which one client both sent and made room to receive: in a ` +
              'wake-up where a socket is readable and writable, read it and then flush it — serving only the read costs ' +
              `another select() call every time (hint 1)`,
          ).toBeLessThanOrEqual(1.5 * ticks + 4);
        } finally {
          slow.stop();
        }
      },
      { sndbuf: 1024, rcvbuf: 1024 },
    ));

  it('says goodbye after what is queued: a bad frame while output waits gets ERROR after it, then the close', () =>
    withServer(goodbyeAfterQueued, GOODBYE_SOCKETS));

  it('disconnects a client that never reads instead of queueing for it forever', () =>
    withServer(
      async (stage) => {
        const [a, b] = await stage.connect(2);
        const sloth = stage.open('never-reads');
        await stage.waitFor(() => stage.openFds().length === 4, 'the never-reading client to be accepted');
        for (let i = 0; i < 40; i++) a!.sendFrame(MessageType.SAY, { id: i, text: `${i} ${'y'.repeat(1000)}` });
        await stage.waitFor(() => stage.heard(b!, `39 ${'y'.repeat(1000)}`).length === 1, 'the reading client to get all 40 messages');
        await stage.waitFor(() => stage.openFds().length === 3, 'the server to drop the client whose outbound queue overflowed');
        expect(sloth.received.length).toBe(0);
      },
      { sndbuf: 4096, rcvbuf: 4096, maxOutboundBytes: 8192 },
    ));

  it('reassembles a frame that drips in one byte at a time', () =>
    withServer(async (stage) => {
      const [a] = await stage.connect(1);
      const drip = stage.open('drip');
      await stage.waitFor(() => stage.openFds().length === 3, 'the dripping client to be accepted');
      drip.sendFrame(MessageType.SAY, { id: 1, text: 'slowly' });
      await stage.waitFor(() => stage.heard(a!, 'slowly').length === 1, 'a message dripped byte by byte to arrive');
    }));

  it(`refuses the client that lands on fd ${FD_SETSIZE} with server_full, and keeps serving the others`, () =>
    withServer(async (stage) => {
      // fds 0–2 are the std streams, 3 the listener: clients 1…1020 take fds 4…1023.
      const clients = await stage.connect(FD_SETSIZE - 4);
      const extra = stage.open();
      try {
        await stage.waitFor(() => extra.closedByPeer, `the server to accept and close the client on fd ${FD_SETSIZE}`);
      } catch (err) {
        throw new Error(`${(err as Error).message}\n  FD_SET(${FD_SETSIZE}) has no bit to set: check fd >= FD_SETSIZE right after accept (hint 3)`);
      }
      expect(errors(stage, extra, 'server_full').length, `the client on fd ${FD_SETSIZE} should get ERROR server_full before the close (hint 3)`).toBe(1);
      expect(String(errors(stage, extra, 'server_full')[0]!.body.message ?? ''), 'the server_full ERROR should say why in its message').not.toBe('');
      expect(stage.openFds().length, 'the listener and 1,020 clients stay open').toBe(1 + FD_SETSIZE - 4);
      await stage.sayAndWait(clients[0]!, 'still serving', clients.slice(1), 'the other 1,019 clients to be served after the refusal');
    }));
});

// --- 3. complexity ---------------------------------------------------------------------------------------
describe('01-select: does the work of a select loop', () => {
  it('calls select() over every fd up to the highest one on each wake-up, and nothing else', () =>
    withServer(async (stage) => {
      const n = 100;
      const clients = await stage.connect(n);
      const nfds = 4 + n; // std streams, listener, then the clients: highest fd is n + 3
      stage.proc.meter.reset();
      await stage.sayAndWait(clients[0]!, 'measure', clients.slice(1));
      const select = stage.proc.meter.get('select');
      for (const other of ['poll', 'epoll_wait', 'kevent']) {
        expect(stage.proc.meter.get(other).calls, `this stage is about select(): the loop called ${other}`).toBe(0);
      }
      expect(select.calls, 'select() was never called while a message went round').toBeGreaterThan(0);
      expect(select.fdsInspected, `each select() call should cover all ${nfds} fds (nfds = highest fd + 1)`).toBeGreaterThanOrEqual(select.calls * nfds);
      expect(select.calls, `${select.calls} select() calls for one message among ${n} clients: is the loop spinning?`).toBeLessThanOrEqual(4 * n);
      const accepts = stage.proc.meter.get('accept').calls;
      expect(
        accepts,
        `accept4 was called ${accepts} times while a message went round and nobody connected: accept only when ` +
          'select() says the listener is readable (FD_ISSET(listener, readfds))',
      ).toBe(0);
      const reads = stage.proc.meter.get('read').calls;
      expect(
        reads,
        `${reads} read() calls in ${select.calls} wake-ups while one client of ${n} spoke: read only the fds whose bit ` +
          'select() left set (FD_ISSET(fd, readfds)) — reading the others just returns EAGAIN, a syscall for nothing',
      ).toBeLessThanOrEqual(2 * select.calls);
    }));

  it('serves every fd select() reported before calling it again: one select() per wake-up', () =>
    withServer(async (stage) => {
      const clients = await stage.connect(20);
      const talkers = clients.slice(0, 10);
      stage.proc.meter.reset();
      // Ten clients send at the same moment: one select() call finds all ten ready.
      talkers.forEach((t, i) => t.sendFrame(MessageType.SAY, { id: `t${i}`, text: `at once ${i}` }));
      await stage.waitFor(
        () => talkers.every((_, i) => stage.heard(clients[19]!, `at once ${i}`).length === 1),
        'all ten messages sent at the same moment to reach the last client',
      );
      const select = stage.proc.meter.get('select');
      expect(
        select.calls,
        `${select.calls} select() calls (inspecting ${select.fdsInspected} fds) to serve 10 clients that were ready at once: ` +
          'after select() returns, walk every connection and serve each one whose bit is set — not just the first — ' +
          'before calling select() again; every extra call costs another scan of all the fds (hint 1)',
      ).toBeLessThanOrEqual(3);
    }));

  it('flushes only the fds select() reported writable: a stalled client costs no write() per wake-up', () =>
    withServer(
      async (stage) => {
        const [talker] = await stage.connect(1);
        stage.open('never-reads');
        await stage.waitFor(() => stage.openFds().length === 3, 'the never-reading client to be accepted');
        // About 2 KiB of this fill the stalled client's socket; the rest waits in its queue for good.
        await stage.sayAndWait(talker!, 'x'.repeat(4_000), [], 'the first big message');
        await stage.waitFor(() => stage.hasReply(talker!, `say:${'x'.repeat(4_000)}`), 'the OK for the big message');
        stage.proc.meter.reset();
        const pings = 40;
        for (let i = 0; i < pings; i++) {
          const id = stage.ping(talker!);
          await stage.waitFor(() => stage.hasReply(talker!, id), `the OK for PING ${i + 1}`);
        }
        const writes = stage.proc.meter.get('write').calls;
        const selects = stage.proc.meter.get('select').calls;
        expect(
          writes,
          `${writes} write() calls in ${selects} wake-ups to answer ${pings} PINGs while another client's bytes waited ` +
            'for a socket that never drains: flush a connection only when select() left its bit set in writefds ' +
            '(FD_ISSET(fd, writefds)) — writing to the others just returns EAGAIN, a syscall for nothing',
        ).toBeLessThanOrEqual(pings + 5);
      },
      { sndbuf: 1024, rcvbuf: 1024 },
    ));

  it('sleeps while nothing happens: no watching for writability without queued bytes', () =>
    withServer(async (stage) => {
      await stage.connect(20);
      stage.proc.meter.reset();
      await stage.idle(10_000);
      const calls = stage.proc.meter.get('select').calls;
      expect(calls, `${calls} select() calls in 10 idle seconds: a socket is almost always writable, so watch writefds only while conn.wantsWrite, and use a timeout of about a second (hint 1)`).toBeLessThanOrEqual(200);
    }));
});
