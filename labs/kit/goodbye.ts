// A grader stages 01 and 02 share: a client that breaks the framing while output still waits for
// it must get that output, then its ERROR, then the close — in that order, nothing cut short.
import { MessageType } from './chat.ts';
import type { StageRun } from './grading.ts';
import { SlowReader } from './scenario/slow-reader.ts';
import { FrameDecoder } from '#server/protocol/frame.ts';
import { expect } from 'vitest';

/** Socket buffers small enough that an 8,000-byte message waits in the server's queue. */
export const GOODBYE_SOCKETS = { sndbuf: 1024, rcvbuf: 1024 };

/** A frame header announcing `length` bytes (0: a frame with no room for its type byte — bad). */
function header(length: number): Uint8Array {
  const h = new Uint8Array(5);
  new DataView(h.buffer).setUint32(0, length, false);
  return h;
}

/** Run on a server started with GOODBYE_SOCKETS. */
export async function goodbyeAfterQueued(stage: StageRun): Promise<void> {
  const [talker] = await stage.connect(1);
  const slow = new SlowReader(stage.kernel, stage.open('never-reads')); // reads 512 bytes every 4 ms
  try {
    await stage.waitFor(() => stage.frames(talker!).some((f) => f.type === MessageType.PRESENCE), 'the slow client to be accepted (PRESENCE join)');
    const big = 'x'.repeat(8_000);
    talker!.sendFrame(MessageType.SAY, { id: 'big', text: big });
    await stage.idle(8); // most of the big message still waits in the server's queue
    slow.send(header(0));
    await stage.waitFor(
      () => stage.openFds().length === 2,
      'the server to close the client that sent a bad frame, once the bytes queued for it and the ERROR were written: ' +
        'when a flush on writability says "close", close the connection',
    );
    await stage.waitFor(() => slow.ended, 'the slow client to read everything up to the close');
    const got = new FrameDecoder().push(slow.received);
    expect(got.map((f) => (f.type === MessageType.ROOM ? 'ROOM' : f.type === MessageType.ERROR ? `ERROR ${String(f.body.code)}` : String(f.type))),
      'the slow client should get the whole message queued for it, then ERROR bad_frame').toEqual(['ROOM', 'ERROR bad_frame']);
  } finally {
    slow.stop();
  }
}
