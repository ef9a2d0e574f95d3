// Graders stages 03, 04 and 05 share: what a server must stop doing for a client it decided to
// close, or dropped earlier in the same batch or the same read — handle its frames, deliver to it,
// read, write or close its fd again.
import { afterEach, expect, it } from 'vitest';
import { EBADF } from '#kernel/index.ts';
import { MessageType } from './chat.ts';
import { StageRun } from './grading.ts';
import type { RunServer } from './server-options.ts';
import { SMALL_SOCKETS, catchUp, fillSlowClient } from './slow-reader.ts';
import { FrameDecoder, encodeFrame, type Frame } from '#server/protocol/frame.ts';

/** Records every read(), write() and close() the server makes on an fd it no longer has open (EBADF). */
export function watchBadFds(r: StageRun): string[] {
  const bad: string[] = [];
  for (const name of ['read', 'write', 'close'] as const) {
    const original = (r.proc[name] as (fd: number, ...rest: unknown[]) => number).bind(r.proc);
    Object.defineProperty(r.proc, name, {
      configurable: true,
      writable: true,
      value: (fd: number, ...rest: unknown[]): number => {
        const result = original(fd, ...rest);
        if (result === -EBADF) bad.push(`${name}(${fd})`);
        return result;
      },
    });
  }
  return bad;
}

/** Unknown to the protocol: the server answers ERROR bad_frame and closes once that is written. */
export const UNKNOWN_TYPE = 0x7e;

export interface ClosingClientWords {
  /** Where the server keeps the bytes it read and has not handled yet: 'buffer', or in 05 its pool 'chunk'. */
  readsInto: 'buffer' | 'chunk';
}

/** Registers the shared graders in the caller's describe block, each on a fresh run of `server`. */
export function closingClientGraders(server: RunServer, words: ClosingClientWords = { readsInto: 'buffer' }): void {
  let run: StageRun | null = null;
  afterEach(async () => {
    if (run && !run.stopped && !run.crashed) await run.stop().catch(() => {});
    run = null;
  });

  it('stops handling the requests of a client once its own replies got it dropped', async () => {
    // A client that never reads sends 300 PINGs at once: somewhere in that burst its replies pass
    // maxOutboundBytes and it is dropped; the rest of its requests, already read, must not be handled.
    run = new StageRun(server, { sndbuf: 1024, rcvbuf: 1024, maxOutboundBytes: 2048 });
    const [reader] = await run.connect(1);
    const fdsBefore = run.openFds().length;
    const sloth = run.open('never-reads');
    await run.waitFor(() => run!.openFds().length === fdsBefore + 1, 'the server to accept the client that never reads');
    const pings = Array.from({ length: 300 }, (_, i) => encodeFrame(MessageType.PING, { id: `p${i}` }));
    const bytes = new Uint8Array(pings.reduce((n, f) => n + f.length, 0));
    pings.reduce((at, f) => (bytes.set(f, at), at + f.length), 0);
    sloth.send(bytes);
    await run.waitFor(
      () => run!.openFds().length === fdsBefore,
      'the server to drop the client whose own replies overflowed its queue — once a client is closed, stop ' +
        `handling the frames left in its ${words.readsInto} (the room no longer knows it: handling them throws)`,
    );
    const id = run.ping(reader!);
    await run.waitFor(() => run!.hasReply(reader!, id), 'the server to keep serving the others afterwards');
    await run.stop();
  });

  it('handles nothing more from a client it decided to close, even while its goodbye waits to be written', async () => {
    run = new StageRun(server, SMALL_SOCKETS);
    const { talker, sloth, fdsBefore } = await fillSlowClient(run);

    // An unknown frame and a SAY in one read, then another SAY in a later read: the ERROR and the
    // close wait behind a full socket, and neither SAY may reach the room.
    const unknown = encodeFrame(UNKNOWN_TYPE, {});
    const sameRead = encodeFrame(MessageType.SAY, { id: 'late1', text: 'said right after a bad frame' });
    const both = new Uint8Array(unknown.length + sameRead.length);
    both.set(unknown, 0);
    both.set(sameRead, unknown.length);
    run.proc.meter.reset();
    sloth.send(both);
    await run.waitFor(() => run!.proc.meter.get('read').calls >= 2, 'the server to read the bad frame');
    await run.idle(50);
    sloth.send(encodeFrame(MessageType.SAY, { id: 'late2', text: 'said while being closed' }));
    await run.waitFor(() => run!.proc.meter.get('read').calls >= 4, 'the server to read what came after the bad frame');
    await run.idle(50);
    expect(
      run.heard(talker, 'said right after a bad frame'),
      'a SAY that came in the same read as an unknown frame type reached the room: once a frame makes you close ' +
        'a client (closeAfterFlush), stop handling the frames after it',
    ).toHaveLength(0);
    expect(
      run.heard(talker, 'said while being closed'),
      'a SAY from a client whose ERROR and close were still waiting to be written reached the room: while it is ' +
        'being closed, read what it sends only to drop it',
    ).toHaveLength(0);

    // It catches up: it gets its backlog, the ERROR, and then the connection closes.
    const decoder = new FrameDecoder();
    const got: Frame[] = [];
    for (let round = 0; round < 200 && run.openFds().length > fdsBefore; round++) {
      catchUp(sloth, decoder, got);
      await run.idle(20);
    }
    expect(run.openFds().length, 'the server to close the client once its ERROR bad_frame was written').toBe(fdsBefore);
    catchUp(sloth, decoder, got);
    expect(got.some((f) => f.type === MessageType.ERROR), 'the client closed for an unknown frame gets ERROR bad_frame first').toBe(true);
    expect(
      got.filter((f) => f.type === MessageType.OK).map((f) => f.body.re),
      'the client got OK for SAYs it sent after the frame that made the server close it',
    ).toEqual([]);
    await run.stop();
  });

  it('drops two slow consumers in one cascade: no delivery to, and no second close of, a client already gone', async () => {
    const maxOutboundBytes = 8 * 1024;
    run = new StageRun(server, { sndbuf: 1024, rcvbuf: 1024, maxOutboundBytes });
    const [talker, reader] = await run.connect(2);
    const fdsBefore = run.openFds();
    const first = run.open('never-reads');
    await run.waitFor(() => run!.openFds().length === fdsBefore.length + 1, 'the server to accept a client that never reads');
    const withFirst = run.openFds();
    const second = run.open('never-reads');
    await run.waitFor(() => run!.openFds().length === withFirst.length + 1, 'the server to accept a second client that never reads');
    const secondFd = run.openFds().find((fd) => !withFirst.includes(fd))!;
    // Both queues must be equal: the first one heard the second join, so the second gets a PING
    // reply of exactly that size. Both take long names, so each one's leave is bigger than a ROOM.
    const joined = encodeFrame(MessageType.PRESENCE, { room: 'lobby', user: `guest${secondFd}`, event: 'join' }).length;
    const id = Array.from({ length: 64 }, (_, n) => 'p'.repeat(n + 1)).find((id) => encodeFrame(MessageType.OK, { re: id }).length === joined)!;
    first.send(encodeFrame(MessageType.LOGIN, { id: 'l', user: 'a'.repeat(32) }));
    second.send(encodeFrame(MessageType.LOGIN, { id: 'l', user: 'b'.repeat(32) }));
    second.send(encodeFrame(MessageType.PING, { id }));
    talker!.send(encodeFrame(MessageType.LOGIN, { id: 'l', user: 't' }));
    await run.waitFor(() => run!.hasReply(talker!, 'l'), 'OK for the LOGIN of the talker');
    await run.idle(50);
    // Short messages to both, in lockstep: the message that overflows the first queue is smaller
    // than the first one's leave, which then overflows the second queue inside the same delivery.
    run.proc.meter.reset();
    // In batches the reader can take without passing the bound itself.
    const texts = Array.from({ length: 400 }, (_, i) => `${i}`);
    for (let start = 0; start < texts.length; start += 50) {
      const batch = texts.slice(start, start + 50);
      batch.forEach((text) => talker!.send(encodeFrame(MessageType.SAY, { id: `d${text}`, text })));
      await run.waitFor(
        () => batch.every((t) => run!.heard(reader!, t).length === 1),
        `the reading client to hear messages ${start}–${start + batch.length - 1} while two others never read`,
      );
    }
    await run.waitFor(() => run!.openFds().length === fdsBefore.length, 'the server to drop both clients that never read');
    const closes = run.proc.meter.get('close').calls;
    expect(
      closes,
      `${closes} close() calls to drop 2 clients: a client dropped earlier in the same batch must not be ` +
        'disconnected again — its fd may already belong to someone else (check its closed flag first)',
    ).toBe(2);
    const ping = run.ping(reader!);
    await run.waitFor(() => run!.hasReply(reader!, ping), 'the server to keep serving the others afterwards');
    await run.stop();
  });

  it('touches nothing of a client dropped earlier in the batch: no write, no read of its fd', async () => {
    // The talker's huge SAY goes first to the reader, whose queue was empty: it is to be written
    // once the deliveries are queued. Next in line, the slow client overflows and is dropped; its
    // leave, on top of the huge message, overflows the reader's queue too. By the time the loop
    // writes, the reader is closed: writing to its fd now is writing to a closed (or reused) fd.
    // The reader's own PING, ready in the same wake-up, must not be read from the closed fd either.
    const text = 'x'.repeat(8192);
    const roomLength = encodeFrame(MessageType.ROOM, { room: '#lobby', from: 't', text, ts: 1_000_000_000_000 }).length;
    const maxOutboundBytes = roomLength + 20;
    run = new StageRun(server, { sndbuf: 16 * 1024, rcvbuf: 16 * 1024, maxOutboundBytes });
    const [talker, reader] = await run.connect(2);
    const fdsBefore = run.openFds().length;
    const sloth = run.open('never-reads');
    await run.waitFor(() => run!.openFds().length === fdsBefore + 1, 'the server to accept a client that never reads');
    sloth.send(encodeFrame(MessageType.LOGIN, { id: 'l', user: 's'.repeat(32) }));
    talker!.send(encodeFrame(MessageType.LOGIN, { id: 'l', user: 't' }));
    await run.waitFor(() => run!.hasReply(talker!, 'l'), 'OK for the LOGIN of the talker');
    // A backlog for the slow client: its socket fills, and some bytes wait in its queue.
    const texts = Array.from({ length: 64 }, (_, i) => `#${i} `.padEnd(500, '.'));
    for (let start = 0; start < texts.length; start += 8) {
      const batch = texts.slice(start, start + 8);
      batch.forEach((t) => talker!.send(encodeFrame(MessageType.SAY, { id: `b${t}`, text: t })));
      await run.waitFor(() => batch.every((t) => run!.heard(reader!, t).length === 1), 'the reader to hear the first messages');
    }
    await run.idle(50);
    const bad = watchBadFds(run);
    talker!.send(encodeFrame(MessageType.SAY, { id: 'huge', text }));
    reader!.send(encodeFrame(MessageType.PING, { id: 'same-wake-up' }));
    await run.waitFor(() => run!.hasReply(talker!, 'huge'), 'OK for the huge SAY');
    await run.waitFor(() => run!.openFds().length === fdsBefore - 1, 'the server to drop the slow client and the overflowed reader');
    expect(
      bad,
      'the server read, wrote to or closed an fd it had already closed: a client dropped while the deliveries of a ' +
        'batch were queued must be skipped when the batch is flushed, and its events later in the same wake-up ' +
        'ignored (check its closed flag)',
    ).toEqual([]);
    const error = run.frames(reader!).find((f) => f.type === MessageType.ERROR);
    expect(
      error?.body,
      'the dropped reader, whose socket had room, should get ERROR slow_consumer saying how many bytes were too many',
    ).toMatchObject({ code: 'slow_consumer', message: expect.stringContaining(`${maxOutboundBytes}`) });
    const ping = run.ping(talker!);
    await run.waitFor(() => run!.hasReply(talker!, ping), 'the server to keep serving the talker afterwards');
    await run.stop();
  });

  it('drops a slow consumer at a frame boundary: its ERROR slow_consumer never lands inside a half-written frame', async () => {
    // Big messages to a client that reads a little now and then: each flush fills its socket and
    // stops part-way through a frame. Each round the talker's message arrives just before the slow
    // client takes a few bytes, so when its queue finally overflows its socket has room — and the
    // frame at the head of its queue is half written. Whatever the server writes then follows
    // those half-written bytes in the stream.
    const maxOutboundBytes = 16 * 1024;
    run = new StageRun(server, { sndbuf: 2048, rcvbuf: 2048, maxOutboundBytes });
    const [talker] = await run.connect(1);
    const fdsBefore = run.openFds().length;
    const sloth = run.open('never-reads');
    await run.waitFor(() => run!.openFds().length === fdsBefore + 1, 'the server to accept the client that reads slowly');
    const stream: Uint8Array[] = [];
    const take = (max: number): number => {
      const buf = new Uint8Array(max);
      const n = sloth.proc.read(sloth.fd, buf);
      if (n > 0) stream.push(buf.slice(0, n));
      return n;
    };
    for (let i = 0; i < 60 && run.openFds().length > fdsBefore; i++) {
      const say = encodeFrame(MessageType.SAY, { id: `big${i}`, text: `#${i} `.padEnd(3000, '.') });
      // Both in one instant, the message first: the server sees it before it sees the room.
      const written = talker!.proc.write(talker!.fd, say);
      if (written !== say.length) throw new Error(`grader setup: the talker's write took ${written} of ${say.length} bytes`);
      take(1000);
      await run.waitFor(() => run!.hasReply(talker!, `big${i}`), `OK for the talker's message #${i}`);
      await run.idle(10);
    }
    await run.waitFor(
      () => run!.openFds().length === fdsBefore,
      `the server to drop the client whose queue passed maxOutboundBytes (${maxOutboundBytes})`,
    );
    // What a client finds when it reads everything the server left in its socket before the close.
    for (let i = 0; i < 10_000 && take(4096) > 0; i++);
    const bytes = new Uint8Array(stream.reduce((n, b) => n + b.length, 0));
    stream.reduce((at, b) => (bytes.set(b, at), at + b.length), 0);

    const mistake =
      'the ERROR was written in the middle of a frame: the socket already held the start of a frame whose end ' +
      'was still queued, so the ERROR bytes became part of that frame and the client cannot decode its stream. ' +
      'Write the best-effort ERROR slow_consumer only at a frame boundary (conn.midFrame is false); mid-frame, just close';
    const decoder = new FrameDecoder();
    let frames: Frame[];
    try {
      frames = decoder.push(bytes);
    } catch (err) {
      throw new Error(`${mistake}\n  (the client's decoder: ${(err as Error).message})`);
    }
    const errorAt = frames.findIndex((f) => f.type === MessageType.ERROR);
    const text = new TextDecoder().decode(bytes);
    expect(
      errorAt === -1 && text.includes('slow_consumer'),
      `${mistake} (its bytes are in the stream, but no whole ERROR frame decodes from it)`,
    ).toBe(false);
    if (errorAt !== -1) {
      expect(frames[errorAt]!.body.code, 'the only ERROR a dropped slow consumer gets is slow_consumer').toBe('slow_consumer');
      expect(
        errorAt === frames.length - 1 && decoder.pending === 0,
        `${mistake} (bytes follow the ERROR in the stream)`,
      ).toBe(true);
    }
    await run.stop();
  });
}
