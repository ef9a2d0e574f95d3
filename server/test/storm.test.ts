// The reconnect storm, small and fast (npm run bench:server runs it with 5,000): logged-in clients
// drop at once and come back with RESUME — all of them, quickly, and without a single password
// check. It keeps the storm from silently breaking.
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import path from 'node:path';
import { startHarness, type Harness } from '../testing/harness.ts';
import { loggedIn, tempDir } from '../testing/helpers.ts';
import { Req } from '../protocol/codes.ts';
import { Storm } from '../load/storm.ts';
import * as password from '../db/password.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ dbFile: path.join(tempDir(), 'wizz.db'), reactors: 2, policy: { registersPerAddress: { burst: 0, refillPerS: 0 } } });
});
afterAll(() => h?.stop());

it('300 logged-in clients drop at once and all come back with RESUME, no password checked, twice', async () => {
  const storm = await Storm.prepare({ port: h.ports[0]!, clients: 300, prefix: 'storm_' });
  try {
    const verify = vi.spyOn(password, 'verifyPassword');
    for (let round = 0; round < 2; round++) {
      await storm.drop();
      const r = await storm.comeBack();
      expect(r.errors).toEqual({});
      expect(r.back).toBe(300);
      expect(r.seconds).toBeLessThan(15); // generous: a shared 2-core machine; the bench reports the real figure
    }
    expect(verify).not.toHaveBeenCalled();
    verify.mockRestore();
    // They are online again.
    const watcher = await loggedIn(h.ports[1]!);
    const users = (await watcher.client.call(Req.WHO, {})).users as string[];
    expect(users.filter((n) => n.startsWith('storm_'))).toHaveLength(300);
    await watcher.client.close();
  } finally {
    await storm.close();
  }
}, 120_000);
