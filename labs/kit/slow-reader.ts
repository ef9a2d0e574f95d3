// The slow-reader grader stages 03, 04 and 05 share, measured with the emulated kernel's meter: a
// client whose socket is full waits until the server is told it may write again — writing to it
// before then only returns EAGAIN — and that event says nothing about bytes to read. Each stage
// words it its own way (EPOLLOUT and EPOLLIN, or reported writable and readable) and cites its
// own hints; the helpers are those of the closing-client graders too (dropped-clients.ts).
import { afterEach, expect, it } from 'vitest';
import { EAGAIN } from '#kernel/index.ts';
import { MessageType } from './chat.ts';
import { StageRun, type Client } from './grading.ts';
import type { RunServer } from './server-options.ts';
import { FrameDecoder, encodeFrame, type Frame } from '#server/protocol/frame.ts';

export const MESSAGES = 24;

/** Reads a 'never-reads' client's socket by hand, as a client that finally catches up would. */
export function catchUp(client: Client, decoder: FrameDecoder, into: Frame[]): void {
  const buf = new Uint8Array(4096);
  for (let i = 0; i < 10_000; i++) {
    const n = client.proc.read(client.fd, buf);
    if (n === -EAGAIN || n <= 0) return;
    into.push(...decoder.push(buf.subarray(0, n)));
  }
}

/** Small socket buffers: a few KB of chat fill a slow client's socket, while its queue has room. */
export const SMALL_SOCKETS = { sndbuf: 2048, rcvbuf: 2048, maxOutboundBytes: 1024 * 1024 };

/**
 * Connects a talker and a client that reads nothing (`sloth`), then the talker sends MESSAGES
 * SAYs; the first alone is more than both socket buffers hold, so the very first write to the
 * sloth is already partial and the rest is queued. `fdsBefore`: the server's fds without the sloth.
 */
export async function fillSlowClient(r: StageRun): Promise<{ talker: Client; sloth: Client; fdsBefore: number }> {
  const talker = (await r.connect(1))[0]!;
  const fdsBefore = r.openFds().length;
  const sloth = r.open('never-reads');
  await r.waitFor(() => r.openFds().length === fdsBefore + 1, 'the server to accept the client that reads nothing yet');
  for (let i = 0; i < MESSAGES; i++) {
    talker.send(encodeFrame(MessageType.SAY, { id: `s${i}`, text: `#${i} `.padEnd(i === 0 ? 6000 : 400, '.') }));
  }
  await r.waitFor(() => r.hasReply(talker, `s${MESSAGES - 1}`), `OK for all ${MESSAGES} SAYs of the talker`);
  return { talker, sloth, fdsBefore };
}

/** How a stage names readiness in its messages, and which of its hints explain it. */
export interface ReadinessWords {
  /** The test's name. */
  title: string;
  /** A client whose socket is full is… 'waiting for EPOLLOUT'. */
  waiting: string;
  /** The others get their turn… 'on EPOLLOUT'. */
  turn: string;
  /** … is no sign of room to write: 'an EPOLLIN event'. */
  readEvent: string;
  /** Flush only when… 'epoll reports EPOLLOUT'. */
  flushWhen: string;
  /** A client slow from its very first message must… 'get EPOLLOUT registered'. */
  watchWrites: string;
  /** While only… came: 'EPOLLOUT'. */
  writeEvents: string;
  /** Read a client only when… 'epoll reports EPOLLIN, EPOLLERR or EPOLLHUP'. */
  readWhen: string;
  /** Ends the messages on writing, e.g. ' (hint 3)'; '' where no hint of the stage covers it. */
  writeHint: string;
  /** Ends the message on reading, e.g. ' (hint 2)'. */
  readHint: string;
  /** What an interest change is: 'epoll_ctl calls'. */
  interestCall: string;
  /** What the server remembers: 'whether EPOLLOUT is registered'. */
  writesWatched: string;
  /** For the replay command: '03'. */
  stage: string;
}

/** Stage 03's words (epoll), citing stage 03's hints as `cite` says: 'hint' in 03, 'stage 03, hint' in 05. */
export function epollWords(cite: string): ReadinessWords {
  return {
    title: 'writes to a full socket only on EPOLLOUT, and reads only on EPOLLIN',
    waiting: 'waiting for EPOLLOUT',
    turn: 'on EPOLLOUT',
    readEvent: 'an EPOLLIN event',
    flushWhen: 'epoll reports EPOLLOUT',
    watchWrites: 'get EPOLLOUT registered',
    writeEvents: 'EPOLLOUT',
    readWhen: 'epoll reports EPOLLIN, EPOLLERR or EPOLLHUP',
    writeHint: ` (${cite} 3)`,
    readHint: ` (${cite} 2)`,
    interestCall: 'epoll_ctl calls',
    writesWatched: 'whether EPOLLOUT is registered',
    stage: cite === 'hint' ? '03' : '05',
  };
}

/** Stage 04's words, true of every backend (its hints are about the kqueue poller, not this). */
export const POLLER_WORDS: ReadinessWords = {
  title: 'writes to a full socket only once it is reported writable, and reads only when it is readable',
  waiting: 'waiting to be writable',
  turn: 'when the poller reports them writable',
  readEvent: 'a readable event',
  flushWhen: 'the poller reports the client writable',
  watchWrites: 'be watched for writability',
  writeEvents: 'writable events',
  readWhen: 'the poller reports it readable',
  writeHint: '',
  readHint: '',
  interestCall: 'epoll_ctl calls or kevent changes',
  writesWatched: 'whether the poller watches its writes',
  stage: '04',
};

/** Registers the slow-reader grader in the caller's describe block, on a fresh run of `server`. */
export function slowReaderGraders(server: RunServer, w: ReadinessWords): void {
  let run: StageRun | null = null;
  afterEach(async () => {
    if (run && !run.stopped && !run.crashed) await run.stop().catch(() => {});
    run = null;
  });

  it(w.title, async () => {
    run = new StageRun(server, SMALL_SOCKETS);
    // 1. Fill the slow client's socket; the rest waits in the server's queue until it is writable.
    const { talker, sloth } = await fillSlowClient(run);

    // 2. One more message: the talker is written to at once, the slow client is not.
    run.proc.meter.reset();
    talker.send(encodeFrame(MessageType.SAY, { id: 'more', text: 'one more' }));
    await run.waitFor(() => run!.hasReply(talker, 'more'), 'OK for one more SAY');
    await run.idle(50);
    let writes = run.proc.meter.get('write').calls;
    expect(
      writes,
      `${writes} write() calls for one SAY while the other client's socket was full: one for the sender's OK, none ` +
        `for a client already ${w.waiting} — its socket has no room, so the write only returns EAGAIN. Write ` +
        `at once only to a client whose queue was empty; the others get their turn ${w.turn}${w.writeHint}`,
    ).toBeLessThanOrEqual(1);

    // 3. The slow client sends a request (readable) while its own socket is still full.
    run.proc.meter.reset();
    sloth.send(encodeFrame(MessageType.PING, { id: 'slow-ping' }));
    await run.waitFor(() => run!.proc.meter.get('read').calls >= 2, 'the server to read the PING of the slow client');
    await run.idle(50);
    writes = run.proc.meter.get('write').calls;
    expect(
      writes,
      `${writes} write() calls after a PING from a client whose socket was full: ${w.readEvent} is no sign of room ` +
        `to write — flush only when ${w.flushWhen}${w.writeHint}`,
    ).toBe(0);

    // 4. The slow client catches up: only writable events come, and nobody sends anything.
    run.proc.meter.reset();
    const decoder = new FrameDecoder();
    const got: Frame[] = [];
    const rooms = () => got.filter((f) => f.type === MessageType.ROOM).length;
    const answered = () => got.some((f) => f.type === MessageType.OK);
    for (let round = 0; round < 200 && !(rooms() >= MESSAGES + 1 && answered()); round++) {
      catchUp(sloth, decoder, got);
      await run.idle(20);
    }
    expect(
      rooms() >= MESSAGES + 1 && answered(),
      `the slow client got ${rooms()} of ${MESSAGES + 1} messages and ${answered() ? 'its' : 'no'} OK after it ` +
        `started reading: a client slow from its very first message must ${w.watchWrites} once its queue is left ` +
        `non-empty${w.writeHint}`,
    ).toBe(true);
    const reads = run.proc.meter.get('read').calls;
    expect(
      reads,
      `${reads} read() calls while only ${w.writeEvents} came (nobody sent anything): read a client only when ` +
        `${w.readWhen}${w.readHint}`,
    ).toBe(0);

    // 5. After the backlog drained (issue 20, class 5: a cost counted where a wrong solution pays
    //    it): the once-slow client reads like anyone else, and a message to it costs what it costs
    //    a client that was never slow — writes, and no change of what is watched.
    await run.idle(50);
    const changes = countInterestChanges(run);
    run.proc.meter.reset();
    const SAYS = 5;
    for (let i = 0; i < SAYS; i++) {
      talker.send(encodeFrame(MessageType.SAY, { id: `after${i}`, text: `after the drain ${i}` }));
      await run.waitFor(() => run!.hasReply(talker, `after${i}`), `OK for SAY #${i + 1} after the slow client caught up`);
      for (let round = 0; round < 50 && !got.some((f) => f.type === MessageType.ROOM && f.body.text === `after the drain ${i}`); round++) {
        catchUp(sloth, decoder, got);
        await run.idle(5);
      }
    }
    const changed = changes.since();
    const writes5 = run.proc.meter.get('write').calls;
    expect(
      changed,
      `${changed} change(s) of what is watched (${w.interestCall}) for ${SAYS} SAYs after the slow client's backlog drained and it read everything: ` +
        `its queue was empty before and after each message, so nothing about it changed — a client that was never slow costs 0 here. ` +
        `Where to look: what you remember about ${w.writesWatched} once its queue empties — stop watching once, and remember that you did, ` +
        `so that later flushes that leave nothing behind change nothing. Replay: npm test -- ${w.stage}`,
    ).toBe(0);
    expect(writes5, `${writes5} write() calls for ${SAYS} SAYs between two clients after the drain: one OK and one ROOM each`).toBeLessThanOrEqual(2 * SAYS);
    changes.stop();
    await run.stop();
  });
}

/**
 * Counts the server's interest changes from now on: epoll_ctl calls, and the changes handed to
 * kevent (select and poll keep their interest in the process: free).
 */
function countInterestChanges(run: StageRun): { since: () => number; stop: () => void } {
  const proc = run.proc;
  const ctlBefore = proc.meter.get('epoll_ctl').calls;
  let keventChanges = 0;
  const kevent = proc.kevent;
  proc.kevent = function (this: typeof proc, ...args: Parameters<typeof kevent>) {
    keventChanges += args[1].length;
    return kevent.apply(this, args);
  };
  let ctlOffset = 0;
  const resetMeter = proc.meter.reset.bind(proc.meter);
  proc.meter.reset = () => {
    ctlOffset += proc.meter.get('epoll_ctl').calls;
    resetMeter();
  };
  return {
    since: () => ctlOffset + proc.meter.get('epoll_ctl').calls - ctlBefore + keventChanges,
    stop: () => {
      proc.kevent = kevent;
      proc.meter.reset = resetMeter;
    },
  };
}
