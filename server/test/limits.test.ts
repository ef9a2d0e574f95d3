// Bounds: max connections, a client that never reads, a client that pipelines without waiting.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { startHarness, type Harness } from '../testing/harness.ts';
import { eventually, loggedIn, tempDir } from '../testing/helpers.ts';
import { WizzClient } from '../client/wizz-client.ts';
import { Req, Srv } from '../protocol/codes.ts';
import { encodeFrame } from '../protocol/frame.ts';

let h: Harness;
let port: number;
beforeAll(async () => {
  h = await startHarness({
    dbFile: path.join(tempDir(), 'wizz.db'),
    limits: { maxConnections: 6, maxOutboundBytes: 256 * 1024, maxInboundFrames: 16 },
    policy: { requests: { burst: 0, refillPerS: 0 } }, // the room storm below is far beyond the per-user rate
  });
  port = h.ports[0]!;
});
afterAll(() => h?.stop());

describe('bounds', () => {
  it('a client that pipelines 1,000 requests gets 1,000 replies in order (reads pause and resume)', async () => {
    const c = await WizzClient.connect(port);
    const seen: number[] = [];
    const all = new Promise<void>((resolve) => {
      c.onPush = () => {};
      for (let i = 0; i < 1000; i++) {
        (c as any).waiting.set(i, (f: { body: { re: number } }) => {
          seen.push(f.body.re);
          if (seen.length === 1000) resolve();
        });
      }
    });
    c.writeRaw(Buffer.concat(Array.from({ length: 1000 }, (_, i) => encodeFrame(Req.PING, { id: i }))));
    await all;
    expect(seen).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    await c.close();
  });

  it('slow_consumer: a member that never reads is cut off and does not stall the room', { timeout: 90_000 }, async () => {
    const room = '#slow';
    await eventually(() => h.reactors[0]!.connectionCount === 0);
    const victim = await loggedIn(port);
    const speaker = await loggedIn(port);
    const listener = await loggedIn(port);
    for (const x of [victim, speaker, listener]) await x.client.call(Req.JOIN, { room });
    victim.client.socket.pause(); // stops reading: the kernel buffers fill, then ours
    let heard = 0;
    listener.client.retainPushed = false;
    listener.client.onPush = (f) => {
      if (f.type === Srv.ROOM) heard++;
    };
    // ≈ 16 KB per ROOM frame: loopback receive buffers here autotune up to 32 MiB before we notice.
    const text = '😀'.repeat(4000);
    const before = h.reactors[0]!.connectionCount;
    let said = 0;
    const deadline = Date.now() + 30_000;
    while (said < 5_000 && Date.now() < deadline && h.reactors[0]!.connectionCount === before) {
      await Promise.all(Array.from({ length: 25 }, () => speaker.client.call(Req.SAY, { room, text })));
      said += 25;
    }
    expect(h.reactors[0]!.connectionCount).toBe(before - 1);
    // The listener heard everything said so far; the speaker was never blocked.
    await eventually(() => heard === said, 5_000);
    const leave = await speaker.client.nextPush((f) => f.type === Srv.PRESENCE && f.body.event === 'leave');
    expect(leave.body.user).toBe(victim.user);
    victim.client.socket.resume();
    await victim.client.closed;
    await Promise.all([speaker.client.close(), listener.client.close()]);
  });

  it('server_full: connections over the limit get the error and are closed', async () => {
    const open: WizzClient[] = [];
    await eventually(() => h.reactors[0]!.connectionCount === 0);
    for (let i = 0; i < 6; i++) open.push(await WizzClient.connect(port));
    for (const c of open) expect((await c.request(Req.PING, {})).type).toBe(Srv.OK);
    const extra = await WizzClient.connect(port);
    const err = await extra.nextPush((f) => f.type === Srv.ERROR);
    expect(err.body.code).toBe('server_full');
    await extra.closed;
    await open[0]!.close();
    await eventually(() => h.reactors[0]!.connectionCount === 5);
    const again = await WizzClient.connect(port);
    expect((await again.request(Req.PING, {})).type).toBe(Srv.OK);
    await Promise.all([again, ...open.slice(1)].map((c) => c.close()));
  });
});
