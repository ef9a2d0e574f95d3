// Grader for stage 04, part 4 — a slow reader, on every backend, with the emulated kernel's meter.
// A client whose socket is full is waiting to be reported writable: writing to it before then only
// returns EAGAIN, and a writable event says nothing about bytes to read. Then what the server must
// stop doing for a client it decided to close or drop: handle its frames, write to it, close it twice;
// and a slow consumer's ERROR goes out only at a frame boundary, never inside a half-written frame.
// The graders are shared with stages 03 and 05 (labs/kit/slow-reader.ts, labs/kit/dropped-clients.ts).
import { describe } from 'vitest';
import { closingClientGraders } from '#kit/dropped-clients.ts';
import { POLLER_WORDS, slowReaderGraders } from '#kit/slow-reader.ts';
import { BACKENDS } from '#stage/04-kqueue/poller.ts';
import { createServer } from '#stage/04-kqueue/server.ts';

describe.each(BACKENDS)('04-kqueue: around a slow reader, on %s', (backend) => {
  slowReaderGraders(createServer(backend), POLLER_WORDS);
  closingClientGraders(createServer(backend));
});
