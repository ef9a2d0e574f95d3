// Grader for stage 04, part 5 — a server that cannot start must leave the process as it found it:
// when the port is taken, runServer() rejects, and closes what it opened — its poller — and
// nothing else. No listener was ever opened, so there is no listener to close.
import { afterEach, describe, expect, it } from 'vitest';
import { StageRun } from '#kit/grading.ts';
import { BACKENDS } from '#stage/04-kqueue/poller.ts';
import { createServer } from '#stage/04-kqueue/server.ts';

let run: StageRun | null = null;
afterEach(async () => {
  if (run && !run.stopped && !run.crashed) await run.stop().catch(() => {});
  run = null;
});

describe.each(BACKENDS)('04-kqueue: start-up failure on %s', (backend) => {
  it('rejects when the port is in use, closing its own fds and nothing else', async () => {
    run = new StageRun(createServer(backend));
    await run.connect(1); // the first server holds the port
    const second = run.kernel.spawn();
    const before = second.openFds();
    const controller = new AbortController();
    await expect(
      createServer(backend)(second, { port: run.port, signal: controller.signal }),
      'runServer() on a port already in use should reject (bind fails with EADDRINUSE)',
    ).rejects.toThrow();
    expect(
      second.openFds(),
      `after failing to start, the process had fds ${JSON.stringify(second.openFds())} open instead of ` +
        `${JSON.stringify(before)}: on the way out close only what you opened — keep "no listener" as -1, never a ` +
        'valid fd number such as 1 (standard output), and close the poller',
    ).toEqual(before);
    await run.stop();
  });
});
