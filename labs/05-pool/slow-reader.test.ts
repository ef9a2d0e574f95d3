// Grader for stage 05 — the stage-03 server around the pool must stay the stage-03 server: a slow
// reader is written to only on EPOLLOUT and read only on EPOLLIN, one broadcast costs no epoll_ctl,
// and nothing more is done for a client the server decided to close or dropped (the graders stages
// 03 and 04 share). Counted with the emulated kernel's meter.
import { afterEach, describe, expect, it } from 'vitest';
import { MessageType } from '#kit/chat.ts';
import { StageRun } from '#kit/grading.ts';
import { FrameDecoder, encodeFrame, type Frame } from '#server/protocol/frame.ts';
import { MESSAGES, catchUp, closingClientGraders, fillSlowClient } from '#kit/dropped-clients.ts';
import { runServer } from '#stage/05-pool/server.ts';

let run: StageRun | null = null;
afterEach(async () => {
  if (run && !run.stopped && !run.crashed) await run.stop().catch(() => {});
  run = null;
});

describe('05-pool: around a slow reader, as in stage 03', () => {
  it('writes to a full socket only on EPOLLOUT, and reads only on EPOLLIN', async () => {
    // Small socket buffers: a few KB of chat fill the slow client's socket; its queue has room.
    run = new StageRun(runServer, { sndbuf: 2048, rcvbuf: 2048, maxOutboundBytes: 1024 * 1024 });
    const [talker] = await run.connect(1);
    const fdsBefore = run.openFds().length;
    const sloth = run.open('never-reads');
    await run.waitFor(() => run!.openFds().length === fdsBefore + 1, 'the server to accept the client that reads nothing yet');

    // 1. Fill the slow client's socket; the rest waits in the server's queue for EPOLLOUT.
    await fillSlowClient(run, talker!);

    // 2. One more message: the talker is written to at once, the slow client is not.
    run.proc.meter.reset();
    talker!.send(encodeFrame(MessageType.SAY, { id: 'more', text: 'one more' }));
    await run.waitFor(() => run!.hasReply(talker!, 'more'), 'OK for one more SAY');
    await run.idle(50);
    let writes = run.proc.meter.get('write').calls;
    expect(
      writes,
      `${writes} write() calls for one SAY while the other client's socket was full: one for the sender's OK, none ` +
        'for a client already waiting for EPOLLOUT — its socket has no room, so the write only returns EAGAIN. Write ' +
        'at once only to a client whose queue was empty; the others get their turn on EPOLLOUT (stage 03, hint 3)',
    ).toBeLessThanOrEqual(1);

    // 3. The slow client sends a request (EPOLLIN) while its own socket is still full.
    run.proc.meter.reset();
    sloth.send(encodeFrame(MessageType.PING, { id: 'slow-ping' }));
    await run.waitFor(() => run!.proc.meter.get('read').calls >= 2, 'the server to read the PING of the slow client');
    await run.idle(50);
    writes = run.proc.meter.get('write').calls;
    expect(
      writes,
      `${writes} write() calls after a PING from a client whose socket was full: an EPOLLIN event is no sign of room ` +
        'to write — flush only when epoll reports EPOLLOUT (stage 03, hint 3)',
    ).toBe(0);

    // 4. The slow client catches up: only EPOLLOUT events come, and nobody sends anything.
    run.proc.meter.reset();
    const decoder = new FrameDecoder();
    const got: Frame[] = [];
    const done = () => got.filter((f) => f.type === MessageType.ROOM).length >= MESSAGES + 1 && got.some((f) => f.type === MessageType.OK);
    for (let round = 0; round < 200 && !done(); round++) {
      catchUp(sloth, decoder, got);
      await run.idle(20);
    }
    expect(
      done(),
      `the slow client got ${got.filter((f) => f.type === MessageType.ROOM).length} of ${MESSAGES + 1} messages and ` +
        `${got.some((f) => f.type === MessageType.OK) ? 'its' : 'no'} OK after it started reading: a client slow from its ` +
        'very first message must get EPOLLOUT registered once its queue is left non-empty (stage 03, hint 3)',
    ).toBe(true);
    const reads = run.proc.meter.get('read').calls;
    expect(
      reads,
      `${reads} read() calls while only EPOLLOUT came (nobody sent anything): read a client only when epoll ` +
        'reports EPOLLIN, EPOLLERR or EPOLLHUP (stage 03, hint 2)',
    ).toBe(0);
    await run.stop();
  });

  it('one SAY to 100 listeners: one write each, and no epoll_ctl (EPOLLOUT is armed only while bytes wait)', async () => {
    run = new StageRun(runServer);
    const [talker, ...listeners] = await run.connect(101);
    run.proc.meter.reset();
    await run.sayAndWait(talker!, 'to everyone', listeners);
    const ctl = run.proc.meter.get('epoll_ctl').calls;
    const writes = run.proc.meter.get('write').calls;
    expect(
      ctl,
      `${ctl} epoll_ctl calls for one SAY to 100 listeners whose sockets all had room: change a registration only when ` +
        'its EPOLLOUT interest changes — a flush that empties the queue needs no epoll_ctl (stage 03, hint 3)',
    ).toBe(0);
    expect(writes, `${writes} write() calls for one SAY to 100 listeners and the sender's OK: one each`).toBeLessThanOrEqual(101);
    await run.stop();
  });

  it('stops handling the requests of a client once its own replies got it dropped', async () => {
    // A client that never reads sends 300 PINGs at once: somewhere in that burst its replies pass
    // maxOutboundBytes and it is dropped; the rest of its requests, already in its chunk, must not be handled.
    run = new StageRun(runServer, { sndbuf: 1024, rcvbuf: 1024, maxOutboundBytes: 2048 });
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
        'handling the frames left in its chunk (the room no longer knows it: handling them throws)',
    );
    const id = run.ping(reader!);
    await run.waitFor(() => run!.hasReply(reader!, id), 'the server to keep serving the others afterwards');
    await run.stop();
  });

  closingClientGraders(runServer);
});
