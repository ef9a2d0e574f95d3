// Grader for stage 03, part 3 — cost, counted by the emulated kernel's meter (never wall time).
// The point of epoll: with every socket registered once, a wake-up costs work for the sockets that
// are active, however many idle ones sit beside them. The same ten messages are sent with 100 and
// with 10,000 idle clients connected; the loop's own work must not grow with the idle ones, and in
// steady state it is edge-triggered: one wake-up, reads until EAGAIN, no epoll_ctl per event.
import { describe, expect, it } from 'vitest';
import { SIZEOF, type CallCost } from '#kernel/index.ts';
import { MessageType } from '#kit/chat.ts';
import { StageRun } from '#kit/grading.ts';
import { encodeFrame } from '#server/protocol/frame.ts';
import { runServer } from '#stage/03-epoll/server.ts';

const ACTIVE = 10;

interface PhaseCost {
  epollWait: CallCost;
  epollCtl: CallCost;
  read: CallCost;
  /** Events epoll_wait handed back (it copies one epoll_event per event). */
  reported: number;
  /** epoll_ctl calls from the start until every client was connected and answered. */
  ctlWhileConnecting: number;
  clients: number;
}

/** Connects `idle` silent clients and ACTIVE talkers, then meters the talkers' ten messages. */
async function meterTenMessages(idle: number): Promise<PhaseCost> {
  const run = new StageRun(runServer);
  try {
    const quiet = await run.connect(idle);
    const talkers = await run.connect(ACTIVE);
    const ctlWhileConnecting = run.proc.meter.get('epoll_ctl').calls;
    run.proc.meter.reset();
    const texts = talkers.map((_, i) => `message ${i} among ${idle} idle`);
    talkers.forEach((t, i) => t.send(encodeFrame(MessageType.SAY, { id: `m${i}`, text: texts[i] })));
    // Every talker hears the nine others; so do the first and last idle clients.
    const listeners = [...talkers, quiet[0]!, quiet[quiet.length - 1]!];
    await run.waitFor(
      () => listeners.every((c) => run.frames(c).filter((f) => f.type === MessageType.ROOM).length >= (talkers.includes(c) ? ACTIVE - 1 : ACTIVE)),
      `${ACTIVE} messages to reach every talker and the idle clients, with ${idle} idle clients connected`,
    );
    const meter = run.proc.meter;
    const epollWait = meter.get('epoll_wait');
    const cost = {
      epollWait, epollCtl: meter.get('epoll_ctl'), read: meter.get('read'), reported: epollWait.bytesCopied / SIZEOF.epoll_event,
      ctlWhileConnecting, clients: idle + ACTIVE,
    };
    await run.stop();
    return cost;
  } finally {
    if (!run.stopped && !run.crashed) await run.stop().catch(() => {});
  }
}

/** Both phases, measured once for the tests below (the 10,000-client one is the slow part). */
let phases: Promise<{ few: PhaseCost; many: PhaseCost }> | null = null;
function measurePhases(): Promise<{ few: PhaseCost; many: PhaseCost }> {
  return (phases ??= (async () => ({ few: await meterTenMessages(100), many: await meterTenMessages(10_000) }))());
}
const show = (c: PhaseCost) =>
  `epoll_wait: ${c.epollWait.calls} calls inspecting ${c.epollWait.fdsInspected} fds for ${c.reported} events; ` +
  `epoll_ctl: ${c.epollCtl.calls} calls; read: ${c.read.calls} calls`;

describe('03-epoll: cost with idle clients', () => {
  it('does the same work per message with 100 or 10,000 idle clients', async () => {
    const { few, many } = await measurePhases();
    const detail = `\n  with    100 idle: ${show(few)}\n  with 10,000 idle: ${show(many)}`;

    expect(
      many.epollWait.fdsInspected,
      'epoll_wait inspected more fds with 10,000 idle clients than with 100: it should only walk the ready ' +
        'ones. Is EPOLLOUT registered for clients with nothing to write, or are sockets level-triggered and ' +
        `left ready? (hint 2)${detail}`,
    ).toBeLessThanOrEqual(few.epollWait.fdsInspected * 1.5 + ACTIVE);
    expect(
      many.epollWait.calls,
      `the loop woke up far more often with 10,000 idle clients: wake-ups should come from the active few${detail}`,
    ).toBeLessThanOrEqual(few.epollWait.calls * 1.5 + ACTIVE);
    expect(
      many.epollCtl.calls,
      'epoll_ctl was called more with 10,000 idle clients: register each socket once, when it is accepted, and ' +
        `change a registration only when its EPOLLOUT interest changes (hint 1)${detail}`,
    ).toBeLessThanOrEqual(few.epollCtl.calls * 1.5 + ACTIVE);
    expect(many.read.calls, `the loop read from idle sockets: read only what epoll reported${detail}`).toBeLessThanOrEqual(
      few.read.calls * 1.5 + ACTIVE,
    );
  });

  it('is edge-triggered in steady state: one wake-up, reads until EAGAIN, no epoll_ctl per event', async () => {
    const { few, many } = await measurePhases();
    const detail = `\n  ${ACTIVE} messages with 10,000 idle clients: ${show(many)}`;
    expect(
      few.ctlWhileConnecting,
      `${few.ctlWhileConnecting} epoll_ctl calls to register the listener and ${few.clients} clients, each answered once: ` +
        'one EPOLL_CTL_ADD per socket, and no EPOLL_CTL_MOD while nothing has to wait to be written — start each client ' +
        'with EPOLLOUT out of its registration (hint 1)',
    ).toBeLessThanOrEqual(few.clients + 3);
    expect(
      many.epollCtl.calls,
      `epoll_ctl was called ${many.epollCtl.calls} times while ${ACTIVE} short messages went round and nothing had to ` +
        'wait to be written: register each client once with EPOLLIN | EPOLLET, and change a registration only when ' +
        `its EPOLLOUT interest changes — re-arming after every read costs a syscall per event (hint 1)${detail}`,
    ).toBeLessThanOrEqual(ACTIVE / 5);
    expect(
      many.epollWait.fdsInspected,
      `epoll_wait examined ${many.epollWait.fdsInspected} ready-list entries to report ${many.reported} events: ` +
        'level-triggered sockets go back on the ready list after each report and are examined again on the next ' +
        `call. Register clients with EPOLLIN | EPOLLET (hint 2)${detail}`,
    ).toBeLessThanOrEqual(1.5 * many.reported + 2);
    expect(
      many.read.calls,
      `${many.read.calls} read() calls for ${ACTIVE} messages: an edge-triggered socket reports new bytes once, so ` +
        `read until read() returns EAGAIN — one read per event leaves the socket without a next event (hint 2)${detail}`,
    ).toBeGreaterThanOrEqual(2 * ACTIVE);
    expect(
      many.epollWait.calls,
      `${many.epollWait.calls} epoll_wait calls for ${ACTIVE} messages sent at once: about one wake-up per message at ` +
        `most, whatever the idle clients do${detail}`,
    ).toBeLessThanOrEqual(2 * ACTIVE);
  });

  it('sleeps when nothing happens: no wake-ups with ready fds while every client is quiet', async () => {
    const run = new StageRun(runServer);
    try {
      const [a, b] = await run.connect(2);
      await run.sayAndWait(a!, 'and then silence', [b!]);
      run.proc.meter.reset();
      const quietMs = 5_000;
      const until = run.kernel.now() + quietMs;
      // Bounded: stops early if the loop spins (more than 1,000 wake-ups in the quiet time).
      await run.kernel
        .until(() => run.kernel.now() >= until || run.proc.meter.get('epoll_wait').calls > 1_000, {
          timeoutMs: quietMs,
          what: `${quietMs} quiet virtual ms`,
        })
        .catch(() => {}); // the quiet time simply ran out: that is the expected outcome
      const wait = run.proc.meter.get('epoll_wait');
      expect(
        wait.fdsInspected,
        `while nobody sent anything for ${quietMs} ms, epoll_wait still found ${wait.fdsInspected} ready fds in ` +
          `${wait.calls} calls: a socket with an empty queue is always writable, so EPOLLOUT must only be ` +
          'registered while bytes wait to be written (hint 2)',
      ).toBe(0);
      expect(wait.calls, `the loop woke ${wait.calls} times in ${quietMs} quiet ms: use an epoll_wait timeout of tens of ms or more`).toBeLessThanOrEqual(
        quietMs / 10,
      );
      await run.stop();
    } finally {
      if (!run.stopped && !run.crashed) await run.stop().catch(() => {});
    }
  });
});
