// The load generator's core against the in-process server: small, but every number must add up.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import path from 'node:path';
import { startHarness, type Harness } from '../testing/harness.ts';
import { tempDir } from '../testing/helpers.ts';
import { runLoad } from '../load/run.ts';
import { startRelay } from '../testing/relay.ts';
import * as password from '../db/password.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ dbFile: path.join(tempDir(), 'wizz.db'), reactors: 2 });
});
afterAll(() => h?.stop());

it('30 clients in 3 rooms at 300 msgs/s for 2 s: everything acknowledged and delivered, no errors', async () => {
  const r = await runLoad({ port: h.ports[0]!, clients: 30, rooms: 3, rate: 300, durationS: 2, sayRatio: 0.3 });
  expect(r.errors).toEqual({});
  expect(r.connected).toBe(30);
  // The achieved rate depends on the machine (the generator reports a lower rate rather than
  // bursting); what must hold is that everything sent was acknowledged and delivered.
  expect(r.sent).toBeGreaterThan(100);
  expect(r.durationS).toBeLessThan(4);
  expect(r.acked).toBe(r.sent);
  expect(r.delivered).toBe(r.expected);
  expect(r.latencyMs.p99).toBeGreaterThan(0);
});

it('each simulated user logs in once: connections dropped while sending come back with RESUME, no password checked again', async () => {
  const relay = await startRelay(h.ports[0]!);
  const verify = vi.spyOn(password, 'verifyPassword');
  let cutAt = -1;
  const run = runLoad({
    port: relay.port,
    clients: 20,
    rooms: 2,
    rate: 100,
    durationS: 3,
    prefix: 'relayed_',
    requestTimeoutMs: 1_500, // requests cut off by the drop count as timeouts, soon
    drainS: 2, // deliveries cut off by the drop never come: do not wait 15 s for them
    onProgress: (p) => {
      if (p.phase === 'sending' && p.elapsedS > 1 && cutAt < 0) {
        cutAt = verify.mock.calls.length;
        relay.cut();
      }
    },
  });
  const r = await run;
  const checks = verify.mock.calls.length;
  verify.mockRestore();
  await relay.close();
  expect(cutAt).toBeGreaterThanOrEqual(20); // the cut came after every LOGIN
  expect(r.connected).toBe(20);
  expect(r.resumed).toBe(20);
  expect(checks).toBe(cutAt); // and no password was checked after it
  // Only requests in flight at the cut may be lost (as timeouts); nothing else went wrong.
  expect(Object.keys(r.errors).filter((k) => k !== 'timeout')).toEqual([]);
  expect(r.acked).toBeGreaterThan(r.sent / 2);
});
