// Grader for stage 03, part 1 — correctness: the epoll server serves the lab chat exactly as the
// select and poll servers did, including partial writes (small send buffers) and clean shutdown.
import { afterEach, describe, expect, it } from 'vitest';
import { MessageType } from '#kit/chat.ts';
import { StageRun, typeName } from '#kit/grading.ts';
import { encodeFrame } from '#server/protocol/frame.ts';
import { runServer } from '#stage/03-epoll/server.ts';

let run: StageRun | null = null;
afterEach(async () => {
  // Stop whatever a failed test left running; its own failure already told the story.
  if (run && !run.stopped && !run.crashed) await run.stop().catch(() => {});
  run = null;
});

describe('03-epoll: the chat', () => {
  it('answers PING and broadcasts SAY to every other client, with OK to the sender', async () => {
    run = new StageRun(runServer);
    const [alice, bob, carol] = await run.connect(3);
    await run.sayAndWait(alice!, 'hello', [bob!, carol!]);
    await run.waitFor(() => run!.hasReply(alice!, 'say:hello'), 'alice to get OK for her SAY');
    const ok = run.frames(alice!).find((f) => f.body.re === 'say:hello')!;
    expect(typeName(ok.type), 'the sender gets OK {re} for a SAY').toBe('OK');
    expect(run.heard(alice!, 'hello'), 'the sender must not get her own ROOM frame back').toHaveLength(0);
    const room = run.heard(bob!, 'hello')[0]!;
    expect(room.body, 'ROOM carries the room, the sender and the text').toMatchObject({ room: '#lobby', text: 'hello' });
    await run.stop();
  });

  it('announces a client that goes away and closes its fd', async () => {
    run = new StageRun(runServer);
    const [alice, bob] = await run.connect(2);
    const fdsWithBoth = run.openFds().length;
    bob!.close();
    await run.waitFor(
      () => run!.frames(alice!).some((f) => f.type === MessageType.PRESENCE && f.body.event === 'leave'),
      'alice to hear PRESENCE {event:"leave"} after bob closed his connection',
    );
    await run.waitFor(() => run!.openFds().length === fdsWithBoth - 1, "the server to close bob's fd after he left");
    await run.sayAndWait(alice!, 'still here?', [], 'the server to keep serving alice');
    await run.waitFor(() => run!.hasReply(alice!, 'say:still here?'), 'alice to get OK after bob left');
    await run.stop();
  });

  it('answers a bad frame with ERROR bad_frame, closes that client and keeps serving the others', async () => {
    run = new StageRun(runServer);
    const [good, bad] = await run.connect(2);
    bad!.send(Uint8Array.from([0, 0, 0, 0])); // length 0: not a frame
    await run.waitFor(
      () => run!.frames(bad!).some((f) => f.type === MessageType.ERROR && f.body.code === 'bad_frame'),
      'ERROR {code:"bad_frame"} for a frame of length 0',
    );
    await run.waitFor(() => bad!.closedByPeer, 'the server to close the connection that broke the framing');
    const id = run.ping(good!);
    await run.waitFor(() => run!.hasReply(good!, id), 'the other client to still get answers');
  });

  it('delivers everything, in order, through partial writes (4 KiB send buffers)', async () => {
    // Small buffers make write() take only part of a frame: the rest must wait in the outbound
    // queue until EPOLLOUT says there is room again.
    run = new StageRun(runServer, { sndbuf: 4096, rcvbuf: 4096 });
    const [talker, listener] = await run.connect(2);
    const texts = Array.from({ length: 60 }, (_, i) => `${i}:`.padEnd(1500, 'x'));
    for (const text of texts) talker!.send(encodeFrame(MessageType.SAY, { id: `s${text.slice(0, 3)}`, text }));
    await run.waitFor(
      () => run!.frames(listener!).filter((f) => f.type === MessageType.ROOM).length >= texts.length,
      `the listener to receive all ${texts.length} ROOM frames of 1.5 KB through 4 KiB buffers ` +
        '(bytes left in the outbound queue need EPOLLOUT to be armed — hint 2)',
    );
    const got = run.frames(listener!).filter((f) => f.type === MessageType.ROOM).map((f) => f.body.text);
    expect(got, 'ROOM frames arrive complete and in the order they were said').toEqual(texts);
    await run.stop();
  });

  it('closes every fd it opened when the signal aborts', async () => {
    run = new StageRun(runServer);
    await run.connect(5);
    await run.stop();
    expect(run.openFds(), 'fds still open after runServer resolved (clients, listener, the epoll fd)').toEqual([]);
  });
});
