// Grader for stage 03, part 3 — cost, counted by the emulated kernel's meter (never wall time).
// The point of epoll: with every socket registered once, a wake-up costs work for the sockets that
// are active, however many idle ones sit beside them. The same ten messages are sent with 100 and
// with 10,000 idle clients connected; the loop's own work must not grow with the idle ones.
import { describe, expect, it } from 'vitest';
import type { CallCost } from '#kernel/index.ts';
import { MessageType } from '#kit/chat.ts';
import { StageRun } from '#kit/grading.ts';
import { encodeFrame } from '#server/protocol/frame.ts';
import { runServer } from '#stage/03-epoll/server.ts';

const ACTIVE = 10;

interface PhaseCost {
  epollWait: CallCost;
  epollCtl: CallCost;
  read: CallCost;
}

/** Connects `idle` silent clients and ACTIVE talkers, then meters the talkers' ten messages. */
async function meterTenMessages(idle: number): Promise<PhaseCost> {
  const run = new StageRun(runServer);
  try {
    const quiet = await run.connect(idle);
    const talkers = await run.connect(ACTIVE);
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
    const cost = { epollWait: meter.get('epoll_wait'), epollCtl: meter.get('epoll_ctl'), read: meter.get('read') };
    await run.stop();
    return cost;
  } finally {
    if (!run.stopped && !run.crashed) await run.stop().catch(() => {});
  }
}

describe('03-epoll: cost with idle clients', () => {
  it('does the same work per message with 100 or 10,000 idle clients', async () => {
    const few = await meterTenMessages(100);
    const many = await meterTenMessages(10_000);
    const show = (c: PhaseCost) =>
      `epoll_wait: ${c.epollWait.calls} calls inspecting ${c.epollWait.fdsInspected} fds; ` +
      `epoll_ctl: ${c.epollCtl.calls} calls; read: ${c.read.calls} calls`;
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
