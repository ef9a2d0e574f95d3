// For the graders of stages 03–05: the fd limit. At RLIMIT_NOFILE, accept4() fails with EMFILE and
// leaves the client in the backlog, so the listening socket stays ready: a server that just returns
// spins on a level-triggered listener (wake-up, accept4 → EMFILE, wake-up…) or, edge-triggered,
// leaves the client hanging. The lab's remedy is the spare fd: every newcomer at the limit is told
// ERROR server_full and closed, at a bounded cost, the server sleeps while nothing happens, and
// once a client leaves the next newcomer is served. Counted by the meter, never timed.
import { expect, it } from 'vitest';
import { RLIMIT_NOFILE } from '#kernel/index.ts';
import { MessageType } from './chat.ts';
import { StageRun, type Client } from './grading.ts';
import type { RunServer } from './server-options.ts';

export interface FdLimitGrade {
  runServer: RunServer;
  /** The syscall the server's loop waits in ('epoll_wait', 'kevent', 'poll', 'select'). */
  waitCall: string;
  /** Where the stage explains the remedy, e.g. 'README step 5, hint 3'. */
  where: string;
  /** Prefix of the test's name, e.g. 'on the select backend: '. */
  label?: string;
}

/** Clients that arrive together while the server is at its limit. */
export const NEWCOMERS = 5;
/** accept4 calls one refused newcomer may cost: the EMFILE, then the accept through the spare fd. */
const ACCEPTS_PER_NEWCOMER = 2;
/** Wake-ups to refuse NEWCOMERS clients that arrive at the same moment: one does it. */
const MAX_WAKEUPS = 3;
/** Virtual ms the server sits at its limit with nobody arriving. */
const QUIET_MS = 5_000;

/** Registers the fd-limit grader of a stage server. */
export function fdLimitGraders(g: FdLimitGrade): void {
  it(`${g.label ?? ''}at its fd limit, refuses each newcomer with ERROR server_full without spinning, and serves the next one once an fd is free`, async () => {
    const run = new StageRun(g.runServer);
    try {
      await gradeAtLimit(run, g);
    } finally {
      if (!run.stopped && !run.crashed) await run.dispose();
    }
  });
}

async function gradeAtLimit(run: StageRun, g: FdLimitGrade): Promise<void> {
  const badFdCalls = watchBadFdCalls(run);
  const [leaver, stayer] = await run.connect(2);
  const closes = run.proc.meter.get('close').calls;
  expect(
    closes,
    `below its fd limit, while 2 clients connected, the server closed ${closes} fds: the spare fd is for EMFILE only — ` +
      `touch it only when accept4 fails, not when it says EAGAIN (${g.where})`,
  ).toBe(0);
  const held = run.proc.openFds();
  // Every fd number below the limit is taken: the next accept4() fails with EMFILE.
  const hole = held.findIndex((fd, i) => fd !== i);
  const limit = hole < 0 ? held.length : hole;
  expect(run.proc.setrlimit(RLIMIT_NOFILE, { soft: limit, hard: limit }), 'test setup: setrlimit').toBe(0);

  const meter = run.proc.meter;
  const calls = (n: number) => `${n.toLocaleString('en-US')} call${n === 1 ? '' : 's'}`;
  const cost = () => `accept4: ${calls(meter.get('accept').calls)}, ${g.waitCall}: ${calls(meter.get(g.waitCall).calls)}`;
  const told = (c: Client) => run.frames(c).some((f) => f.type === MessageType.ERROR && f.body.code === 'server_full') && c.closedByPeer;
  const remedy =
    'At EMFILE, refuse the newcomer through the spare fd: close the spare, accept4 (it takes that fd), write ERROR server_full, ' +
    `close it, reserve the spare again — and go on until accept4 says EAGAIN (${g.where})`;

  // 1. Newcomers at the limit are told, at a bounded cost.
  meter.reset();
  const start = run.kernel.now();
  const newcomers = Array.from({ length: NEWCOMERS }, () => run.open());
  try {
    await run.waitFor(() => newcomers.every(told), `the ${NEWCOMERS} clients that arrived at the fd limit to be told ERROR server_full and closed`);
  } catch (err) {
    if (/never went to sleep/.test(String(err))) {
      throw new Error(
        `At its fd limit, with ${NEWCOMERS} clients in the backlog, your server never went to sleep: ${cost()} in ` +
          `${run.kernel.now() - start} virtual ms. accept4() fails with EMFILE and leaves each client in the backlog, so ` +
          `the listener is reported ready again at once, and again — a busy loop. ${remedy}.`,
      );
    }
    if (run.crashed !== null) throw new Error(`At its fd limit, with ${NEWCOMERS} clients arriving, ${firstLine(err)}`);
    const n = newcomers.filter(told).length;
    throw new Error(
      `${NEWCOMERS} clients arrived while the server was at its fd limit; ${n} of them were told ERROR server_full and ` +
        `closed (${cost()}). A client the server cannot take must hear so at once, not wait in the backlog for a ` +
        `seat that may never free up. ${remedy}.\n  (${firstLine(err)})`,
    );
  }
  const refusal = run.frames(newcomers[0]!).find((f) => f.type === MessageType.ERROR)!;
  expect(String(refusal.body.message ?? ''), 'ERROR server_full says why in its message').not.toBe('');
  expect(
    badFdCalls,
    'write() or close() called with a negative fd: when accept4 fails (EAGAIN: nobody was waiting after all) there is no ' +
      'newcomer to write to or to close',
  ).toEqual([]);
  const accepts = meter.get('accept').calls;
  const wakeups = meter.get(g.waitCall).calls;
  expect(
    accepts,
    `${accepts} accept4 calls to turn away ${NEWCOMERS} clients at the fd limit (${cost()}): about ${ACCEPTS_PER_NEWCOMER} each ` +
      `(the EMFILE, then the accept through the spare fd), plus the final EAGAIN — no retrying in a loop (${g.where})`,
  ).toBeLessThanOrEqual(ACCEPTS_PER_NEWCOMER * NEWCOMERS + 4);
  expect(
    wakeups,
    `${wakeups} wake-ups to turn away ${NEWCOMERS} clients who arrived at the same moment at the fd limit (${cost()}): ` +
      'one wake-up can refuse them all — keep refusing until accept4 says EAGAIN',
  ).toBeLessThanOrEqual(MAX_WAKEUPS);

  // 2. Still at the limit, nobody arriving: the server sleeps and does not retry accept4.
  meter.reset();
  try {
    await run.idle(QUIET_MS);
  } catch (err) {
    throw new Error(`At its fd limit with nobody waiting, the server never went to sleep (${cost()}): ${firstLine(err)}`);
  }
  expect(
    meter.get('accept').calls,
    `${meter.get('accept').calls} accept4 calls in ${QUIET_MS} quiet virtual ms at the fd limit with nobody waiting (${cost()}): ` +
      'call accept4 when the listener is reported ready, never on a timer',
  ).toBe(0);
  expect(meter.get(g.waitCall).calls, `${cost()} in ${QUIET_MS} quiet virtual ms at the fd limit: the loop should sleep`).toBeLessThanOrEqual(QUIET_MS / 10);

  // 3. A client leaves: its fd is free, so the next newcomer is served — and the one after that
  //    meets the limit again and is refused again (the spare fd was reserved again).
  leaver!.close();
  await run.waitFor(() => run.proc.openFds().length === held.length - 1, 'the server to close the fd of a client that left');
  let next: Client;
  try {
    [next] = (await run.connect(1)) as [Client];
  } catch (err) {
    throw new Error(
      `After a client left, the server was below its fd limit again, but a newcomer was not served: accepting must go on ` +
        `once an fd is free — don't stop watching the listener for good (${g.where}).\n  (${firstLine(err)})`,
    );
  }
  await run.sayAndWait(next, 'a seat freed up', [stayer!], 'the newcomer on the freed fd to be heard by the others');
  meter.reset();
  const late = run.open();
  try {
    await run.waitFor(() => told(late), 'a client arriving at the fd limit once more to be told ERROR server_full');
  } catch (err) {
    throw new Error(
      `The server was at its fd limit a second time and the newcomer was not told ERROR server_full (${cost()}): ` +
        `is the spare fd reserved again after each refusal? (${g.where})\n  (${firstLine(err)})`,
    );
  }
  await run.stop();
  expect(run.openFds(), 'fds left open after runServer resolved (the spare fd too must be closed)').toEqual([]);
}

/** Records every write() and close() the server makes on a negative fd (an errno taken for an fd). */
function watchBadFdCalls(run: StageRun): string[] {
  const calls: string[] = [];
  for (const name of ['write', 'close'] as const) {
    const original = (run.proc[name] as (fd: number, ...rest: unknown[]) => number).bind(run.proc);
    Object.defineProperty(run.proc, name, {
      configurable: true,
      writable: true,
      value: (fd: number, ...rest: unknown[]): number => {
        if (fd < 0) calls.push(`${name}(${fd})`);
        return original(fd, ...rest);
      },
    });
  }
  return calls;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 300);
}
