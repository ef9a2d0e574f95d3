// Grader for stage 04, part 2 — one server, four backends: the same scenarios run on select, poll,
// epoll and kqueue. The chat, partial writes, a 1 MiB burst, a client that never reads, and churn
// (clients coming and going, so fd numbers are reused while the server keeps running).
import { afterEach, describe, expect, it } from 'vitest';
import { MessageType } from '#kit/chat.ts';
import { StageRun } from '#kit/grading.ts';
import type { StageOptions } from '#kit/grading.ts';
import { encodeFrame } from '#server/protocol/frame.ts';
import { BACKENDS } from '#stage/04-kqueue/poller.ts';
import { createServer, runServer } from '#stage/04-kqueue/server.ts';

let run: StageRun | null = null;
afterEach(async () => {
  if (run && !run.stopped && !run.crashed) await run.stop().catch(() => {});
  run = null;
});

/** `count` numbered SAY frames of about `size` bytes, in one byte array. */
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

describe.each(BACKENDS)('04-kqueue: the server on %s', (backend) => {
  const start = (options: StageOptions = {}) => (run = new StageRun(createServer(backend), options));
  const rooms = (client: Parameters<StageRun['frames']>[0]) => run!.frames(client).filter((f) => f.type === MessageType.ROOM);

  it('serves the chat: PING, SAY → OK and ROOM, a leave announced', async () => {
    const r = start();
    const [alice, bob, carol] = await r.connect(3);
    await r.sayAndWait(alice!, 'hello', [bob!, carol!]);
    await r.waitFor(() => r.hasReply(alice!, 'say:hello'), 'OK for the SAY');
    expect(r.heard(alice!, 'hello'), 'the sender does not get her own ROOM').toHaveLength(0);
    carol!.close();
    await r.waitFor(
      () => r.frames(alice!).some((f) => f.type === MessageType.PRESENCE && f.body.event === 'leave'),
      'PRESENCE leave after a client closed',
    );
    await r.stop();
    expect(r.openFds(), `fds left open by the ${backend} server after it stopped`).toEqual([]);
  });

  it('after a frame of unknown type: ERROR bad_frame, nothing after it is served, and the connection closed', async () => {
    const r = start();
    const [rogue, other] = await r.connect(2);
    const unknown = encodeFrame(0x7f, {});
    const ping = encodeFrame(MessageType.PING, { id: 'after-unknown' });
    const both = new Uint8Array(unknown.length + ping.length);
    both.set(unknown);
    both.set(ping, unknown.length);
    rogue!.send(both); // one chunk: the PING arrives with the frame that ends the conversation
    await r.waitFor(
      () => r.frames(rogue!).some((f) => f.type === MessageType.ERROR && f.body.code === 'bad_frame'),
      `ERROR bad_frame for a frame of unknown type on ${backend}`,
    );
    await r.waitFor(() => rogue!.closedByPeer, 'the server to close the connection once the ERROR is sent');
    expect(r.hasReply(rogue!, 'after-unknown'), 'a request after the frame that ended the conversation must not be answered').toBe(false);
    const id = r.ping(other!);
    await r.waitFor(() => r.hasReply(other!, id), 'the other client to be served as before');
    await r.stop();
  });

  it('delivers everything in order through 4 KiB send buffers (partial writes)', async () => {
    const r = start({ sndbuf: 4096, rcvbuf: 4096 });
    const [talker, listener] = await r.connect(2);
    const { bytes, texts } = sayFrames(60, 1500);
    talker!.send(bytes);
    await r.waitFor(
      () => rooms(listener!).length >= texts.length,
      `all ${texts.length} messages through 4 KiB buffers on ${backend} (writes must be watched while bytes are queued)`,
    );
    expect(rooms(listener!).map((f) => f.body.text), 'complete and in order').toEqual(texts);
    await r.stop();
  });

  it('processes every frame of a 1 MiB burst', async () => {
    const r = start({ rcvbuf: 256 * 1024, sndbuf: 256 * 1024, maxOutboundBytes: 64 * 1024 * 1024 });
    const [sender, listener] = await r.connect(2);
    const { bytes, texts } = sayFrames(1024, 1000);
    sender!.send(bytes);
    await r.waitFor(
      () => rooms(listener!).length >= texts.length,
      `all ${texts.length} frames of a 1 MiB burst on ${backend} (read until EAGAIN: edge-triggered backends do not repeat themselves)`,
    );
    expect(rooms(listener!).map((f) => f.body.text), 'every frame of the burst, in order').toEqual(texts);
    await r.stop();
  });

  it('drops a client that never reads, without delaying the others', async () => {
    const r = start({ sndbuf: 16 * 1024, rcvbuf: 16 * 1024, maxOutboundBytes: 64 * 1024 });
    const [talker, reader] = await r.connect(2);
    const fdsBefore = r.openFds().length;
    r.open('never-reads');
    await r.waitFor(() => r.openFds().length === fdsBefore + 1, 'the server to accept the client that never reads');
    const { bytes, texts } = sayFrames(300, 1000);
    talker!.send(bytes);
    await r.waitFor(() => rooms(reader!).length >= texts.length, 'the reading client to get every message');
    await r.waitFor(
      () => r.openFds().length === fdsBefore,
      `the ${backend} server to drop the client that never reads once its queue passed maxOutboundBytes`,
    );
    await r.stop();
  });

  it('keeps serving while clients come and go and their fd numbers are reused', async () => {
    const r = start();
    const [host] = await r.connect(1);
    const baseline = r.openFds().length;
    for (let round = 0; round < 12; round++) {
      const [guest] = await r.connect(1);
      await r.sayAndWait(guest!, `round ${round}`, [host!], `round ${round}: a new client (on a reused fd) to be heard`);
      guest!.close();
      await r.waitFor(() => r.openFds().length === baseline, `round ${round}: the server to close the guest's fd`);
    }
    const id = r.ping(host!);
    await r.waitFor(() => r.hasReply(host!, id), 'the first client to still be served after the churn');
    await r.stop();
  });
});

describe('04-kqueue: the default backend', () => {
  it('runServer without options.backend runs on kqueue', async () => {
    const r = (run = new StageRun(runServer));
    const [alice, bob] = await r.connect(2);
    await r.sayAndWait(alice!, 'which backend?', [bob!]);
    const waits = Object.fromEntries(['select', 'poll', 'epoll_wait', 'kevent'].map((call) => [call, r.proc.meter.get(call).calls]));
    expect(waits.kevent, `runServer without a backend should wait in kevent() (kqueue is the default); wait calls seen: ${JSON.stringify(waits)}`).toBeGreaterThan(0);
    expect(waits.select + waits.poll + waits.epoll_wait, `only kevent() should be used: ${JSON.stringify(waits)}`).toBe(0);
    await r.stop();
  });
});
