// Grader for stage 02: the chat on poll(). In order: it serves the chat as clients come and go;
// it survives hostile clients and never walks past a ready entry (the swap-delete slip); it holds
// 5,000 clients, and the cost meter shows what poll() costs: every entry, every call — with one
// pollfd array kept for the server's life and O(1) removal.
import { describe, expect, it } from 'vitest';
import type { PollFd } from '#kernel/index.ts';
import { MessageType } from '#kit/chat.ts';
import { SlowReader } from '#kit/scenario/slow-reader.ts';
import { FrameDecoder, encodeFrame } from '#server/protocol/frame.ts';
import { StageRun, type Client, type StageOptions } from '#kit/grading.ts';
import { GOODBYE_SOCKETS, goodbyeAfterQueued } from '#kit/goodbye.ts';
import { runServer } from '#stage/02-poll/server.ts';

async function withServer(body: (stage: StageRun) => Promise<void>, options: StageOptions = {}) {
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
const flags = (revents: number) =>
  Object.entries({ POLLIN: 0x1, POLLOUT: 0x4, POLLERR: 0x8, POLLHUP: 0x10, POLLNVAL: 0x20 })
    .filter(([, bit]) => revents & bit)
    .map(([name]) => name)
    .join('|');
function expectNoMissedEvents(stage: StageRun) {
  const [first] = stage.pollAudit.missed;
  expect(
    first,
    first &&
      `poll() call #${first.call} reported fd ${first.fd} ${flags(first.revents)}, but the loop called poll() again without ` +
        `looking at it. Serve every entry poll() reported before calling it again: walk the whole array (stopping early ` +
        `leaves the rest for later), and after a swap-delete look at slot i again — the entry moved there has not been ` +
        `examined yet (hint 2)`,
  ).toBeUndefined();
}

// --- 1. correctness ------------------------------------------------------------------------------------
describe('02-poll: serves the chat', () => {
  it('delivers each message once to every other client, and answers the sender', () =>
    withServer(async (stage) => {
      const clients = await stage.connect(6);
      for (let round = 0; round < 3; round++) {
        const from = clients[(round * 5) % clients.length]!;
        await stage.sayAndWait(from, `round ${round}`, clients.filter((c) => c !== from));
        await stage.waitFor(() => stage.hasReply(from, `say:round ${round}`), `the OK for message ${round + 1}`);
      }
      for (const [i, c] of clients.entries()) {
        const heard = [0, 1, 2].map((r) => stage.heard(c, `round ${r}`).length);
        const spoke = [0, 1, 2].map((r) => (clients[(r * 5) % clients.length] === c ? 0 : 1));
        expect(heard, `client ${i + 1}: how many times it got each message`).toEqual(spoke);
      }
    }));

  it('keeps the array right as clients come and go', () =>
    withServer(async (stage) => {
      const first = await stage.connect(10);
      first[1]!.close();
      first[4]!.shutdownWrite();
      first[6]!.reset();
      first[9]!.close();
      await stage.waitFor(() => stage.openFds().length === 7,
        'the server to close the 4 connections whose peer left (read() 0 or an error, POLLHUP, POLLERR) (hint 1)');
      const later = await stage.connect(5);
      const present = [...first.filter((_, i) => ![1, 4, 6, 9].includes(i)), ...later];
      await stage.sayAndWait(later[4]!, 'roll call', present.filter((c) => c !== later[4]),
        'every connected client to hear a message after others left and new ones came (are removed entries gone, new ones added?)');
      expect(stage.openFds().length, 'the listener and 11 connections').toBe(12);
      expect(stage.pollAudit.lastLength, 'entries in the array handed to poll(): the listener and the 11 connections').toBe(12);
      expectNoMissedEvents(stage);
    }));

  it('stops when the signal aborts, closing every fd it opened', () =>
    withServer(async (stage) => {
      await stage.connect(3);
      await stage.stop();
      expect(stage.openFds(), 'fds still open after runServer resolved').toEqual([]);
    }));

  it('copes with partial writes: POLLOUT while bytes wait, then the rest goes out', () =>
    withServer(
      async (stage) => {
        const clients = await stage.connect(3);
        await stage.sayAndWait(clients[0]!, 'z'.repeat(8_000), clients.slice(1),
          'a big message to arrive whole: ask for POLLOUT while conn.wantsWrite and flush on it (hint 1)');
        await stage.sayAndWait(clients[0]!, 'after the big one', clients.slice(1));
      },
      { sndbuf: 1024, rcvbuf: 1024 },
    ));
});

// --- 2. robustness ---------------------------------------------------------------------------------------
describe('02-poll: survives hostile clients and its own bookkeeping', () => {
  it('two clients leave in the same wake-up as a third speaks: nobody is skipped', () =>
    withServer(async (stage) => {
      // Each round: a listener, then the two leavers, then the speaker — last in the array, so a
      // swap-delete moves the speaker into a leaver's slot. All three act before the server wakes.
      for (let round = 0; round < 3; round++) {
        const [listener, leaver1, leaver2, speaker] = await stage.connect(4);
        speaker!.sendFrame(MessageType.SAY, { id: round, text: `same wake-up ${round}` });
        leaver1!.close();
        leaver2!.reset();
        await stage.waitFor(() => stage.heard(listener!, `same wake-up ${round}`).length === 1, `the speaker's message in round ${round + 1}`);
        await stage.waitFor(() => stage.openFds().length === 1 + 2 * (round + 1), 'the two leavers to be closed');
        expectNoMissedEvents(stage);
      }
    }));

  it('cleans up a reset client (POLLHUP | POLLERR), and one that resets mid-frame', () =>
    withServer(async (stage) => {
      const [a, b, c] = await stage.connect(3);
      b!.reset();
      const half = stage.open('reset-mid-write');
      await stage.waitFor(() => stage.openFds().length === 4, 'the mid-write client to be accepted');
      half.sendFrame(MessageType.SAY, { id: 1, text: 'cut short' });
      await stage.waitFor(() => stage.openFds().length === 3,
        'the server to close the reset connections: poll() reports POLLHUP/POLLERR with or without POLLIN — test bits with &, not === (hint 1)');
      await stage.sayAndWait(a!, 'after resets', [c!]);
      expect(stage.heard(a!, 'cut short').length, 'half a frame must never be delivered').toBe(0);
    }));

  it('answers a bad frame with ERROR bad_frame and closes only that connection', () =>
    withServer(async (stage) => {
      const [good, bad] = await stage.connect(2);
      bad!.send(header(0x00ffffff));
      await stage.waitFor(() => bad!.closedByPeer, 'the server to close the connection that sent a bad frame');
      expect(errors(stage, bad!, 'bad_frame').length, 'ERROR bad_frame before closing').toBe(1);
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
              `the bytes queued for it must still go out — handle POLLOUT whenever revents has it, also when POLLIN came in the same wake-up (hint 1)`,
          ).toBeGreaterThan(0);
          // Each 4 ms tick the slow client is readable and writable at once: one wake-up serves both.
          const ticks = Math.ceil((stage.kernel.now() - start) / 4);
          const calls = stage.proc.meter.get('poll').calls;
          expect(
            calls,
            `${calls} poll() calls during ${ticks} ticks in which one client both sent and made room to receive: in a ` +
              'wake-up where a socket is readable and writable, read it and then flush it — serving only the read costs ' +
              `another poll() call every time (hint 1)`,
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
        stage.open('never-reads');
        await stage.waitFor(() => stage.openFds().length === 4, 'the never-reading client to be accepted');
        for (let i = 0; i < 40; i++) a!.sendFrame(MessageType.SAY, { id: i, text: `${i} ${'y'.repeat(1000)}` });
        await stage.waitFor(() => stage.heard(b!, `39 ${'y'.repeat(1000)}`).length === 1, 'the reading client to get all 40 messages');
        await stage.waitFor(() => stage.openFds().length === 3, 'the server to drop the client whose outbound queue overflowed');
      },
      { sndbuf: 4096, rcvbuf: 4096, maxOutboundBytes: 8192 },
    ));
  for (const speaks of [true, false]) {
    it(`drops a client whose queue overflows mid-scan when the scan reaches it${speaks ? ', before reading what it sent' : ''}`, () =>
      withServer(
        async (stage) => {
          // In slot order: the speaker, the laggard (never reads), the one scanned after it, a watcher.
          const [speaker] = await stage.connect(1);
          const laggard = stage.open('never-reads');
          await stage.waitFor(() => stage.openFds().length === 3, 'the never-reading client to be accepted');
          const [after, watcher] = await stage.connect(2);
          // Fill the laggard's socket (1 KiB + 4 KiB) and about 6 KiB of its 8 KiB queue.
          for (const [k, size] of [6_000, 5_000].entries()) {
            await stage.sayAndWait(speaker!, `${k} ${'f'.repeat(size)}`, [after!, watcher!]);
          }
          expect(stage.openFds().length, 'the laggard is still connected: its queue has not overflowed yet').toBe(5);
          // One wake-up: the speaker's message overflows the laggard's queue (dooming it), the
          // laggard itself sends a message (or not), and the client after it in the array speaks.
          speaker!.sendFrame(MessageType.SAY, { id: 'last straw', text: 'z'.repeat(3_000) });
          if (speaks) laggard.sendFrame(MessageType.SAY, { id: 'doomed', text: 'from the doomed' });
          after!.sendFrame(MessageType.SAY, { id: 'after', text: 'after the drop' });
          await stage.waitFor(() => stage.heard(watcher!, 'after the drop').length === 1, 'the message sent after the laggard was doomed');
          await stage.waitFor(() => stage.openFds().length === 4, 'the server to drop the client whose outbound queue overflowed');
          await stage.idle(50);
          const story = stage
            .frames(watcher!)
            .filter((f) => f.type === MessageType.ROOM || (f.type === MessageType.PRESENCE && f.body.event === 'leave'))
            .slice(-3)
            .map((f) => (f.type === MessageType.PRESENCE ? 'leave' : String(f.body.text).slice(0, 15)));
          expect(
            stage.heard(watcher!, 'from the doomed').length > 0,
            'a client doomed by an overflowing queue had its message broadcast: once something sent in this wake-up ' +
              'doomed a connection, service() must return false for it without reading it (README step 3)',
          ).toBe(false);
          expect(
            story,
            'what a watcher heard in that wake-up: the message that overflowed the laggard\'s queue, the laggard\'s leave, ' +
              'then the message of the client after it in the array. The scan closes a doomed connection when it reaches ' +
              'its slot — whether or not poll() reported anything for it — not at some later wake-up (README steps 3 and 4)',
          ).toEqual(['z'.repeat(15), 'leave', 'after the drop']);
        },
        { sndbuf: 1024, rcvbuf: 4096, maxOutboundBytes: 8192 },
      ));
  }
});

// --- 3. scale and complexity ---------------------------------------------------------------------------------------
describe('02-poll: past the select() wall, still O(n)', () => {
  it('serves 5,000 clients, and each poll() looks at every entry', () =>
    withServer(async (stage) => {
      const n = 5_000;
      const clients = await stage.connect(n);
      expect(stage.openFds().length, 'the listener and 5,000 connections').toBe(n + 1);
      stage.proc.meter.reset();
      await stage.sayAndWait(clients[n - 1]!, 'five thousand', clients.slice(0, n - 1));
      const poll = stage.proc.meter.get('poll');
      for (const other of ['select', 'epoll_wait', 'kevent']) {
        expect(stage.proc.meter.get(other).calls, `this stage is about poll(): the loop called ${other}`).toBe(0);
      }
      expect(poll.calls, 'poll() was never called while a message went round').toBeGreaterThan(0);
      expect(stage.pollAudit.lastLength, 'entries handed to poll(): the listener and 5,000 connections').toBe(n + 1);
      expect(poll.fdsInspected % (n + 1), 'every poll() pass looks at every one of the 5,001 entries').toBe(0);
      expect(poll.fdsInspected, 'every poll() call looks at all 5,001 entries').toBeGreaterThanOrEqual(poll.calls * (n + 1));
      expect(poll.calls, `${poll.calls} poll() calls for one message: is the loop spinning?`).toBeLessThanOrEqual(50);
      expectNoMissedEvents(stage);
    }));

  it('keeps one pollfd array: entries live from call to call, and a removal moves at most one', () =>
    withServer(async (stage) => {
      const calls = recordPollArrays(stage);
      const clients = await stage.connect(100);
      await stage.sayAndWait(clients[0]!, 'before', clients.slice(1));
      const leaving = clients[4]!; // near the front of the array: a shifting removal moves ~95 entries
      const beforeLeave = calls.length;
      stage.proc.meter.reset();
      leaving.close();
      const rest = clients.filter((c) => c !== leaving);
      await stage.sayAndWait(rest[0]!, 'after', rest.slice(1));
      const poll = stage.proc.meter.get('poll');
      const accepts = stage.proc.meter.get('accept').calls;
      expect(
        accepts,
        `accept4 was called ${accepts} times while nobody connected: accept only when poll() reports POLLIN on the listener's entry`,
      ).toBe(0);
      const reads = stage.proc.meter.get('read').calls;
      expect(
        reads,
        `${reads} read() calls in ${poll.calls} wake-ups while one client left and one spoke: read only the entries whose ` +
          'revents say so — reading the others just returns EAGAIN, a syscall for nothing',
      ).toBeLessThanOrEqual(3 * poll.calls);
      const numbers = `(${poll.calls} poll() calls inspecting ${poll.fdsInspected.toLocaleString('en-US')} entries while one client left and one spoke)`;

      let renewed = 0;
      for (let k = 1; k < calls.length; k++) if (renewedEntries(calls[k - 1]!, calls[k]!) > 0) renewed++;
      expect(
        renewed,
        `poll() got a new array or new entries for fds it already watched in ${renewed} of ${calls.length - 1} calls ${numbers}: ` +
          'keep one pollfd array for the life of the server — push an entry on accept, swap-delete it on close, and ' +
          'between calls only set each entry\'s events (hint 3)',
      ).toBe(0);

      // The last call before the leave was noticed, and the first one after.
      const gone = calls.findIndex((c, k) => k >= beforeLeave && c.entries.length < calls[beforeLeave - 1]!.entries.length);
      expect(gone, 'the array never got shorter after a client left: remove its entry when you close it').toBeGreaterThan(0);
      const moved = movedEntries(calls[gone - 1]!, calls[gone]!);
      expect(
        moved,
        `one client of 100 left and ${moved} other entries moved to another slot ${numbers}: remove with swap-delete ` +
          '(pollfds[i] = last; pop()), which is O(1) — splice or filter shift every entry after it, O(n) per removal (hint 2)',
      ).toBeLessThanOrEqual(1);
    }));

  it('sleeps while nothing happens: POLLOUT only while bytes wait', () =>
    withServer(async (stage) => {
      await stage.connect(20);
      stage.proc.meter.reset();
      await stage.idle(10_000);
      const calls = stage.proc.meter.get('poll').calls;
      expect(calls, `${calls} poll() calls in 10 idle seconds: sockets are nearly always writable, so ask for POLLOUT only while conn.wantsWrite (hint 1)`).toBeLessThanOrEqual(200);
    }));
});

interface PollCall {
  array: PollFd[];
  /** The entries as they stood when poll() was called. */
  entries: PollFd[];
}

/** Records the array each poll() call gets, and its entries at that moment. */
function recordPollArrays(stage: StageRun): PollCall[] {
  const calls: PollCall[] = [];
  const poll = stage.proc.poll.bind(stage.proc);
  Object.defineProperty(stage.proc, 'poll', {
    configurable: true,
    writable: true,
    value: (fds: PollFd[], timeoutMs: number | null): Promise<number> => {
      calls.push({ array: fds, entries: [...fds] });
      return poll(fds, timeoutMs);
    },
  });
  return calls;
}

/** Entries of fds watched in both calls that are not the same objects (all of them for a new array). */
function renewedEntries(before: PollCall, after: PollCall): number {
  if (after.array !== before.array) return after.entries.length;
  const old = new Map(before.entries.map((e) => [e.fd, e]));
  return after.entries.filter((e) => old.has(e.fd) && old.get(e.fd) !== e).length;
}

/** Fds watched in both calls whose entry sits in another slot. */
function movedEntries(before: PollCall, after: PollCall): number {
  const slot = new Map(before.entries.map((e, i) => [e.fd, i]));
  return after.entries.filter((e, i) => slot.has(e.fd) && slot.get(e.fd) !== i).length;
}
