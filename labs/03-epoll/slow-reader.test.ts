// Grader for stage 03, part 4 — a slow reader, with the emulated kernel's meter. A client whose
// socket is full is waiting for EPOLLOUT: writing to it before then only returns EAGAIN, and an
// EPOLLOUT event says nothing about bytes to read. Then what the server must stop doing for a
// client it decided to close or drop: handle its frames, write to it, close it twice; and a slow
// consumer's ERROR goes out only at a frame boundary, never inside a half-written frame. The
// graders are shared with stages 04 and 05 (labs/kit/slow-reader.ts, labs/kit/dropped-clients.ts).
import { describe } from 'vitest';
import { closingClientGraders } from '#kit/dropped-clients.ts';
import { epollWords, slowReaderGraders } from '#kit/slow-reader.ts';
import { runServer } from '#stage/03-epoll/server.ts';

describe('03-epoll: around a slow reader', () => {
  slowReaderGraders(runServer, epollWords('hint'));
  closingClientGraders(runServer);
});
