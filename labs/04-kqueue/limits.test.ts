// Grader for stage 04, part 3 — each backend's own limits and costs, counted by the meter.
// select cannot watch fd 1024: the client that lands there is refused cleanly and everyone else
// carries on. kqueue has no such wall. And a wake-up costs what each mechanism promises: select and
// poll grow with the idle clients, epoll and kqueue stay flat.
import { afterEach, describe, expect, it } from 'vitest';
import type { CallCost } from '#kernel/index.ts';
import { MessageType } from '#kit/chat.ts';
import { StageRun } from '#kit/grading.ts';
import { encodeFrame } from '#server/protocol/frame.ts';
import { BACKENDS, type BackendName } from '#stage/04-kqueue/poller.ts';
import { createServer } from '#stage/04-kqueue/server.ts';

let run: StageRun | null = null;
afterEach(async () => {
  if (run && !run.stopped && !run.crashed) await run.stop().catch(() => {});
  run = null;
});

/** The syscall each backend waits in. */
const WAIT_CALL: Record<BackendName, string> = { select: 'select', poll: 'poll', epoll: 'epoll_wait', kqueue: 'kevent' };
const ACTIVE = 10;

describe('04-kqueue: limits', () => {
  it('select: the client that lands on fd 1024 is refused with ERROR server_full; the others carry on', async () => {
    run = new StageRun(createServer('select'));
    const r = run;
    // fds 0–2 are the standard streams and 3 the listener: clients get 4…1023.
    const clients = await r.connect(1020);
    expect(r.openFds().at(-1), 'test setup: the last accepted client sits on fd 1023').toBe(1023);
    const unlucky = r.open();
    await r.waitFor(
      () => r.frames(unlucky).some((f) => f.type === MessageType.ERROR && f.body.code === 'server_full'),
      'ERROR {code:"server_full"} for the client on fd 1024 (select cannot watch it: check what add() returns)',
    );
    await r.waitFor(() => unlucky.closedByPeer, 'the server to close the connection it cannot watch');
    expect(r.crashed, 'the server must not crash (FD_SET(1024) aborts the program)').toBeNull();
    const id = r.ping(clients[0]!);
    await r.waitFor(() => r.hasReply(clients[0]!, id), 'the clients below the wall to be served as before');
    clients[500]!.close();
    await r.waitFor(() => r.openFds().length === 1 + 1019, 'the server to close the fd of a client that left');
    const [newcomer] = await r.connect(1); // takes the freed fd, below 1024
    await r.sayAndWait(newcomer!, 'room again', [clients[0]!], 'a newcomer on a freed fd below 1024 to be served');
    await r.stop();
  });

  it('kqueue: serves clients on fds past 1024', async () => {
    run = new StageRun(createServer('kqueue'));
    const clients = await run.connect(1100);
    expect(Math.max(...run.openFds()), 'test setup: some client sits past fd 1024').toBeGreaterThan(1024);
    await run.sayAndWait(clients.at(-1)!, 'from beyond the wall', [clients[0]!]);
    await run.stop();
  });
});

/** Connects `idle` silent clients and ACTIVE talkers, then meters the wait syscall during ten messages. */
async function meterWakeups(backend: BackendName, idle: number): Promise<CallCost> {
  run = new StageRun(createServer(backend));
  const r = run;
  await r.connect(idle);
  const talkers = await r.connect(ACTIVE);
  r.proc.meter.reset();
  talkers.forEach((t, i) => t.send(encodeFrame(MessageType.SAY, { id: `m${i}`, text: `message ${i}` })));
  await r.waitFor(
    () => talkers.every((c) => r.frames(c).filter((f) => f.type === MessageType.ROOM).length >= ACTIVE - 1),
    `${ACTIVE} messages to reach every talker on ${backend} with ${idle} idle clients`,
  );
  const cost = r.proc.meter.get(WAIT_CALL[backend]);
  await r.stop();
  run = null;
  return cost;
}

describe('04-kqueue: cost per wake-up', () => {
  it.each(BACKENDS)('%s: fds inspected per wake-up with 100 and with 1,000 idle clients', async (backend) => {
    const few = await meterWakeups(backend, 100);
    const many = await meterWakeups(backend, 1000);
    const perCall = (c: CallCost) => c.fdsInspected / Math.max(1, c.calls);
    const detail =
      `${WAIT_CALL[backend]}: ${few.fdsInspected} fds in ${few.calls} calls with 100 idle, ` +
      `${many.fdsInspected} fds in ${many.calls} calls with 1,000 idle`;
    if (backend === 'select' || backend === 'poll') {
      // Given backends: this checks the measurement itself sees the difference.
      expect(perCall(many), `${backend} looks at every watched fd on each call, so its cost grows: ${detail}`).toBeGreaterThan(5 * perCall(few));
    } else {
      expect(
        many.fdsInspected,
        `${backend} should only touch the active fds (and the changes it submits), whatever the idle count: ${detail}` +
          (backend === 'kqueue' ? ' — are changes re-submitted for every fd on each wait?' : ''),
      ).toBeLessThanOrEqual(few.fdsInspected * 1.5 + ACTIVE);
    }
  });
});
