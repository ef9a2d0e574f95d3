// The kernel's rarer answers (issue 20, class 4): an event for an fd number that was closed and
// given to a newcomer within the same batch of events. One wake-up brings, in this order: A's
// message, a newcomer on the listener, and B's reset. Handling A's message writes to B, finds the
// reset and closes B; accepting the newcomer gives it B's fd number; then B's own event — a
// hang-up — is still in the batch. A server that looks the client up by fd number hangs up on the
// newcomer. Shared by every stage whose loop handles a batch of events (03, 04, 05).
import { expect } from 'vitest';
import { MessageType } from './chat.ts';
import { StageRun } from './grading.ts';
import type { RunServer } from './server-options.ts';
import { encodeFrame } from '#server/protocol/frame.ts';

export async function gradeFdReusedInOneBatch(runServer: RunServer, stage: string): Promise<void> {
  const run = new StageRun(runServer, { seed: 11 });
  try {
    const [a, b, witness] = await run.connect(3);
    const bFds = run.proc.openFds();
    // Without letting the server run: A's message, a newcomer, B's reset — in this order.
    const say = encodeFrame(MessageType.SAY, { id: 'reuse', text: 'for everyone' });
    expect(a!.proc.write(a!.fd, say), 'test setup: A writes its SAY in one go').toBe(say.length);
    const c = run.open();
    b!.reset();
    await run.waitFor(() => run.heard(witness!, 'for everyone').length > 0, 'the SAY sent in the same wake-up as a newcomer and a reset to reach the others');
    await run.kernel.settle();
    const newcomerFd = run.proc.openFds().find((fd) => !bFds.includes(fd));
    const pong = run.ping(c);
    try {
      await run.waitFor(() => run.hasReply(c, pong), 'the newcomer to be answered');
    } catch {
      // reported below
    }
    expect(
      !c.closedByPeer && run.hasReply(c, pong),
      `one wake-up brought, in this order: A's SAY, a newcomer on the listener, and B's reset (readable, with an error and a hang-up). Writing A's SAY to B found the reset and closed B; ` +
        `the newcomer was accepted on ${newcomerFd === undefined ? "B's old fd" : `fd ${newcomerFd}, B's old number,`} — and then ${c.closedByPeer ? 'the server hung up on the newcomer' : 'the newcomer got no answer to PING'}. ` +
        'B\'s own event was still in the batch, and it reached the newcomer: the client was looked up by fd number, or by a slot the newcomer now has. ' +
        `Where to look: your dispatch — an event of a client closed earlier in the same batch must be skipped (mark a client closed when you close it and check that mark before each of its events; never find it by fd number alone). Replay: npm test -- ${stage.slice(0, 2)}`,
    ).toBe(true);
  } finally {
    if (!run.stopped && !run.crashed) await run.stop().catch(() => {});
  }
}
