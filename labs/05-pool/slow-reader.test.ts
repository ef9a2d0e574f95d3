// Grader for stage 05 — the stage-03 server around the pool must stay the stage-03 server: a slow
// reader is written to only on EPOLLOUT and read only on EPOLLIN, one broadcast costs no epoll_ctl,
// and nothing more is done for a client the server decided to close or dropped (the graders stages
// 03 and 04 share: labs/kit/slow-reader.ts, labs/kit/dropped-clients.ts). Counted with the meter.
import { afterEach, describe, expect, it } from 'vitest';
import { closingClientGraders } from '#kit/dropped-clients.ts';
import { StageRun } from '#kit/grading.ts';
import { epollWords, slowReaderGraders } from '#kit/slow-reader.ts';
import { runServer } from '#stage/05-pool/server.ts';

let run: StageRun | null = null;
afterEach(async () => {
  if (run && !run.stopped && !run.crashed) await run.stop().catch(() => {});
  run = null;
});

describe('05-pool: around a slow reader, as in stage 03', () => {
  slowReaderGraders(runServer, epollWords('stage 03, hint'));

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

  closingClientGraders(runServer, { readsInto: 'chunk' });
});
