// An event for an fd closed and reused within one batch (the kernel's rarer answers, issue 20):
// see #kit/fd-reuse.ts.
import { it } from 'vitest';
import { gradeFdReusedInOneBatch } from '#kit/fd-reuse.ts';
import { runServer } from '#stage/04-kqueue/server.ts';

it("skips the event of a client closed earlier in the same batch, even when a newcomer already has its fd", async () => {
  await gradeFdReusedInOneBatch(runServer, '04-kqueue');
});
