// Grader for stage 04, part 3 — each backend's own limits and costs, counted by the meter.
// select cannot watch fd 1024: the client that lands there is refused cleanly and everyone else
// carries on. kqueue has no such wall. And a wake-up costs what each mechanism promises: select and
// poll grow with the idle clients, epoll and kqueue stay flat.
import { afterEach, describe, expect, it } from 'vitest';
import type { CallCost, KEvent, Process } from '#kernel/index.ts';
import { MessageType } from '#kit/chat.ts';
import { fdLimitGraders } from '#kit/fd-limit.ts';
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
    // fds 0–2 are the standard streams, then the spare fd and the listener: clients get 5…1023.
    const clients = await r.connect(1019);
    expect(r.openFds().at(-1), 'test setup: the last accepted client sits on fd 1023 (the server holds one spare fd and the listener besides)').toBe(1023);
    const held = r.openFds().length;
    const unlucky = r.open();
    await r.waitFor(
      () => r.frames(unlucky).some((f) => f.type === MessageType.ERROR && f.body.code === 'server_full'),
      'ERROR {code:"server_full"} for the client on fd 1024 (select cannot watch it: check what add() returns)',
    );
    const refusal = r.frames(unlucky).find((f) => f.type === MessageType.ERROR)!;
    expect(String(refusal.body.message ?? ''), 'ERROR server_full says why in its message').not.toBe('');
    await r.waitFor(() => unlucky.closedByPeer, 'the server to close the connection it cannot watch');
    expect(r.crashed, 'the server must not crash (FD_SET(1024) aborts the program)').toBeNull();
    const id = r.ping(clients[0]!);
    await r.waitFor(() => r.hasReply(clients[0]!, id), 'the clients below the wall to be served as before');
    clients[500]!.close();
    await r.waitFor(() => r.openFds().length === held - 1, 'the server to close the fd of a client that left');
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

// At RLIMIT_NOFILE accept4() fails with EMFILE and leaves the client in the backlog: on select and
// poll the listener is then reported again at once (a busy loop), on epoll and kqueue the client
// hangs. On every backend each newcomer at the limit is told ERROR server_full through the spare fd.
describe.each(BACKENDS)('04-kqueue: the fd limit on %s', (backend) => {
  fdLimitGraders({ runServer: createServer(backend), waitCall: WAIT_CALL[backend], where: 'stage 03, README step 5', label: `${backend}: ` });
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

/** Counts the changes a process hands to kevent() (each entry of a changelist is one). */
function countKeventChanges(proc: Process): () => number {
  let changes = 0;
  const original = proc.kevent.bind(proc);
  Object.defineProperty(proc, 'kevent', {
    configurable: true,
    value: (kq: number, changelist: KEvent[], ...rest: [KEvent[], number, number | null]) => {
      changes += changelist.length;
      return original(kq, changelist, ...rest);
    },
  });
  return () => changes;
}

/** The meter's counters as one line: "write 201 calls, epoll_wait 2 calls (34 fds), …". */
function meterLine(snapshot: Record<string, CallCost>): string {
  return Object.entries(snapshot)
    .sort(([, a], [, b]) => b.calls - a.calls)
    .map(([call, c]) => `${call} ${c.calls} call${c.calls === 1 ? '' : 's'}${c.fdsInspected ? ` (${c.fdsInspected} fds)` : ''}`)
    .join(', ');
}

const LISTENERS = 200;

describe('04-kqueue: kernel calls for one broadcast', () => {
  it.each(BACKENDS)(`%s: one SAY to ${LISTENERS} listeners costs one write each, and no interest-set change`, async (backend) => {
    run = new StageRun(createServer(backend));
    const r = run;
    const keventChanges = countKeventChanges(r.proc);
    const interestChangesNow = () => r.proc.meter.get('epoll_ctl').calls + keventChanges();
    const atStart = interestChangesNow();
    const [talker, ...listeners] = await r.connect(1 + LISTENERS);
    const onConnect = interestChangesNow() - atStart;
    expect(
      onConnect,
      `connecting ${1 + LISTENERS} clients (each gets an OK for its PING, which goes out at once) should cost one interest-set change each, ` +
        `the add; the ${backend} server made ${onConnect}: is writes' interest switched on or off for a client that never had bytes queued?`,
    ).toBeLessThanOrEqual(1 + LISTENERS + 2);
    r.proc.meter.reset();
    const changesBefore = keventChanges();
    talker!.send(encodeFrame(MessageType.SAY, { id: 'b1', text: 'to everyone' }));
    await r.waitFor(
      () => listeners.every((c) => r.frames(c).some((f) => f.type === MessageType.ROOM && f.body.text === 'to everyone')),
      `one SAY to reach all ${LISTENERS} listeners on ${backend}`,
    );
    await r.waitFor(() => r.hasReply(talker!, 'b1'), 'the OK for the SAY');
    const snapshot = r.proc.meter.snapshot();
    const total = r.proc.meter.total().calls;
    // epoll changes its interest list with epoll_ctl; kqueue with the changelist of kevent();
    // select and poll keep theirs in user space (a modify() there costs no syscall).
    const interestChanges = r.proc.meter.get('epoll_ctl').calls + keventChanges() - changesBefore;
    const detail = `The meter counted ${total} kernel calls: ${meterLine(snapshot)}` + (backend === 'kqueue' ? `; ${keventChanges() - changesBefore} changes went to kevent()` : '');
    expect(
      interestChanges,
      `every listener's socket had room, so each message goes out with one write() and the interest set never changes — ` +
        `yet the ${backend} server made ${interestChanges} interest-set changes for one broadcast. Watch writes only when ` +
        `a write left bytes queued, and call modify() only when that changes (client.watchingWrites). ${detail}`,
    ).toBeLessThanOrEqual(2);
    expect(
      r.proc.meter.get('write').calls,
      `one broadcast to ${LISTENERS} listeners (plus the OK to the talker) should take ${LISTENERS + 1} write() calls: ${detail}`,
    ).toBeLessThanOrEqual(LISTENERS + 1 + 2);
    expect(total, `one broadcast: ${LISTENERS + 1} writes, a read or two and a wake-up or two, not ${total}: ${detail}`).toBeLessThanOrEqual(
      LISTENERS + 1 + 12,
    );
    if (backend === 'kqueue') {
      expect(
        snapshot.kevent?.calls ?? 0,
        `kqueue waits and applies its changes in the same call, so a broadcast costs a kevent() or two, not ${snapshot.kevent?.calls}: ${detail}`,
      ).toBeLessThanOrEqual(3);
    }
    await r.stop();
  });
});
