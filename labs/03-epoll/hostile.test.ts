// Grader for stage 03, part 2 — robustness: a client that sends a megabyte at once (edge-triggered
// reads must drain the socket) and a client that never reads (its queue must stay bounded, and it
// must not hold up anyone else).
import { afterEach, describe, expect, it } from 'vitest';
import { MessageType } from '#kit/chat.ts';
import { StageRun } from '#kit/grading.ts';
import { encodeFrame } from '#server/protocol/frame.ts';
import { runServer } from '#stage/03-epoll/server.ts';

let run: StageRun | null = null;
afterEach(async () => {
  if (run && !run.stopped && !run.crashed) await run.stop().catch(() => {});
  run = null;
});

/** `count` SAY frames of about `size` bytes each, numbered so order and loss are visible. */
function sayFrames(count: number, size: number): { bytes: Uint8Array; texts: string[] } {
  const texts = Array.from({ length: count }, (_, i) => `#${i} `.padEnd(size, '.'));
  const frames = texts.map((text, i) => encodeFrame(MessageType.SAY, { id: `b${i}`, text }));
  const bytes = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    bytes.set(f, at);
    at += f.length;
  }
  return { bytes, texts };
}

describe('03-epoll: hostile clients', () => {
  it('processes every frame of a 1 MiB burst (edge-triggered: read until EAGAIN)', async () => {
    // A receive buffer bigger than one read: after the last edge, bytes are still waiting.
    // The outbound bound is lifted so only the reading side is under test here.
    run = new StageRun(runServer, { rcvbuf: 256 * 1024, sndbuf: 256 * 1024, maxOutboundBytes: 64 * 1024 * 1024 });
    const [sender, listener] = await run.connect(2);
    const { bytes, texts } = sayFrames(1024, 1000);
    expect(bytes.length, 'the burst is at least 1 MiB').toBeGreaterThanOrEqual(1024 * 1024);
    sender!.send(bytes);
    const rooms = () => run!.frames(listener!).filter((f) => f.type === MessageType.ROOM);
    try {
      await run.waitFor(() => rooms().length >= texts.length, `all ${texts.length} SAY frames of the burst to reach the listener`);
    } catch (err) {
      throw new Error(
        `${(err as Error).message}\n  The listener got ${rooms().length} of ${texts.length}. With EPOLLET an event means ` +
          '"new bytes arrived", not "bytes are waiting": read until read() returns -EAGAIN, or the rest of the ' +
          'burst sits in the socket with no event to announce it (hint 2).',
      );
    }
    expect(rooms().map((f) => f.body.text), 'every frame of the burst, in order').toEqual(texts);
    const oks = run.frames(sender!).filter((f) => f.type === MessageType.OK && String(f.body.re).startsWith('b'));
    expect(oks.length, 'the sender gets an OK for each SAY of the burst').toBe(texts.length);
    await run.stop();
  });

  it('drops a client that never reads once its queue passes maxOutboundBytes, without delaying the others', async () => {
    const maxOutboundBytes = 64 * 1024;
    // Small socket buffers so the backlog piles up in the server's queue quickly.
    run = new StageRun(runServer, { sndbuf: 16 * 1024, rcvbuf: 16 * 1024, maxOutboundBytes });
    const [talker, reader] = await run.connect(2);
    const fdsBefore = run.openFds().length;
    run.open('never-reads');
    await run.waitFor(() => run!.openFds().length === fdsBefore + 1, 'the server to accept the client that never reads');
    // 300 KB of chat: far more than its socket buffers and its queue bound together.
    const { bytes, texts } = sayFrames(300, 1000);
    talker!.send(bytes);
    const heard = () => run!.frames(reader!).filter((f) => f.type === MessageType.ROOM).length;
    await run.waitFor(
      () => heard() >= texts.length,
      `the reading client to get all ${texts.length} messages while another client refuses to read ` +
        '(one stuck client must not hold up the loop: never wait for a socket to drain)',
    );
    try {
      await run.waitFor(() => run!.openFds().length === fdsBefore, 'the server to close the client that never reads');
    } catch {
      throw new Error(
        `the client that never reads was still connected after ${texts.length} KB were sent its way: its outbound ` +
          `queue must stop at maxOutboundBytes (${maxOutboundBytes}) and the client be dropped with ERROR ` +
          'slow_consumer — otherwise one idle client can grow the server\'s memory without limit (hint 3).',
      );
    }
    const id = run.ping(reader!);
    await run.waitFor(() => run!.hasReply(reader!, id), 'the server to keep serving the others afterwards');
    await run.stop();
  });

});
