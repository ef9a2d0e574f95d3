// Memory is bounded by what is actually held, and every queue has a bound with backpressure:
// - a client that stops reading holds copies of its waiting frames, not the pool's 256 KiB slabs
//   (without that, one small frame per slab pins each slab: 100 KB waiting pinned 500 MiB);
// - a client that pipelines thousands of requests in one write has at most maxInboundFrames of
//   them decoded and waiting (the decoder stops at the limit, the socket pauses);
// - while the primary is behind, a reactor stops taking requests off its sessions instead of
//   queueing IPC messages without bound, and catches up when the primary does.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { startHarness, type Harness } from '../testing/harness.ts';
import { eventually, loggedIn, tempDir } from '../testing/helpers.ts';
import { DbActor } from '../db/actor-client.ts';
import { LinkDb } from '../db/db.ts';
import { Switchboard } from '../primary/switchboard.ts';
import { DEFAULT_FLOW, LinkClient, memoryPair, type DownMsg, type Transport, type UpMsg } from '../router/link.ts';
import { HubRouter } from '../router/hub-router.ts';
import { Reactor } from '../reactor/reactor.ts';
import { Req, Srv } from '../protocol/codes.ts';
import { encodeFrame } from '../protocol/frame.ts';
import { SLAB_BYTES } from '../pool/frame-pool.ts';
import { DOWN_MAX_IN_FLIGHT } from '../router/down-flow.ts';

const NO_BUCKETS = { requests: { burst: 0, refillPerS: 0 } }; // floods are the point here

describe('a reader that stops reading', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ dbFile: path.join(tempDir(), 'wizz.db'), limits: { maxOutboundBytes: 512 * 1024 }, policy: NO_BUCKETS });
  });
  afterAll(() => h?.stop());

  it('holds copies of its waiting frames, not whole slabs, and costs the others nothing', { timeout: 90_000 }, async () => {
    const reactor = h.reactors[0]!;
    const port = h.ports[0]!;
    const victim = await loggedIn(port);
    const quiet = await loggedIn(port);
    const speaker = await loggedIn(port);
    const listener = await loggedIn(port);
    await victim.client.call(Req.JOIN, { room: '#quiet' });
    await quiet.client.call(Req.JOIN, { room: '#quiet' });
    await speaker.client.call(Req.JOIN, { room: '#busy' });
    await listener.client.call(Req.JOIN, { room: '#busy' });
    victim.client.socket.pause(); // never reads again

    // 1. Big frames until the kernel's buffers are full and the server holds bytes for the victim.
    const big = '😀'.repeat(4_000); // ≈ 16 KB per ROOM frame
    const deadline = Date.now() + 30_000;
    while (reactor.stats().outboundBytes === 0 && Date.now() < deadline) {
      await Promise.all(Array.from({ length: 10 }, () => quiet.client.call(Req.SAY, { room: '#quiet', text: big })));
    }
    expect(reactor.stats().outboundBytes).toBeGreaterThan(0);

    // 2. One small frame for the victim, then enough other traffic to fill a slab: every small
    //    frame lands in a different slab. A waiting frame that pinned its slab would pin them all.
    let heard = 0;
    let worstLatency = 0;
    listener.client.retainPushed = false;
    listener.client.onPush = (f) => {
      if (f.type !== Srv.ROOM) return;
      heard++;
      worstLatency = Math.max(worstLatency, Date.now() - (f.body.ts as number));
    };
    const filler = 'x'.repeat(3_900); // ≈ 4 KB: 64 of them fill a slab
    let said = 0;
    for (let round = 0; round < 40 && reactor.connectionCount === 4; round++) {
      await quiet.client.call(Req.SAY, { room: '#quiet', text: `small ${round}` });
      await Promise.all(Array.from({ length: 70 }, () => speaker.client.call(Req.SAY, { room: '#busy', text: filler })));
      said += 70;
    }
    await eventually(() => heard === said, 10_000); // the listener heard every one
    const { pool, outboundBytes } = reactor.stats();
    // What is held for the victim is its bytes (at most its bound), and almost no slab is pinned.
    expect(outboundBytes).toBeLessThanOrEqual(512 * 1024);
    expect(pool.slabsPinned * SLAB_BYTES, `${pool.slabsPinned} slabs pinned by a reader holding ${outboundBytes} bytes`).toBeLessThanOrEqual(4 * SLAB_BYTES);
    // The others were served at their own pace (a generous bound: the machine is shared).
    expect(worstLatency).toBeLessThan(3_000);
    victim.client.socket.destroy();
    await Promise.all([quiet, speaker, listener].map((x) => x.client.close()));
    await eventually(() => reactor.connectionCount === 0);
    await eventually(() => reactor.stats().pool.slabsPinned === 0 && reactor.stats().pool.liveFrames === 0);
  });
});

describe('a client that pipelines thousands of requests in one write', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ dbFile: path.join(tempDir(), 'wizz.db'), policy: NO_BUCKETS });
  });
  afterAll(() => h?.stop());

  it('has at most maxInboundFrames (64) of them decoded and waiting, and gets every reply in order', { timeout: 60_000 }, async () => {
    const reactor = h.reactors[0]!;
    const a = await loggedIn(h.ports[0]!);
    const n = 10_000;
    let peak = 0;
    let sampling = true;
    const sample = () => {
      peak = Math.max(peak, reactor.stats().inboundFrames);
      if (sampling) setImmediate(sample);
    };
    sample();
    const replies: unknown[] = [];
    const done = new Promise<void>((resolve) => {
      a.client.onPush = () => {};
      for (let i = 0; i < n; i++) {
        (a.client as unknown as { waiting: Map<number, (f: { body: { re: number } }) => void> }).waiting.set(100_000 + i, (f) => {
          replies.push(f.body.re);
          if (replies.length === n) resolve();
        });
      }
    });
    // WHO needs the hub: each one waits for the primary, so requests pile up if decoding does not stop.
    a.client.writeRaw(Buffer.concat(Array.from({ length: n }, (_, i) => encodeFrame(Req.WHO, { id: 100_000 + i }))));
    await done;
    sampling = false;
    expect(replies).toEqual(Array.from({ length: n }, (_, i) => 100_000 + i));
    expect(peak).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(64);
    await a.client.close();
  });
});

describe('a primary that falls behind', () => {
  it('makes the reactor stop taking requests (bounded IPC), and everything is answered when it catches up', { timeout: 60_000 }, async () => {
    const actor = new DbActor({ file: path.join(tempDir(), 'wizz.db'), log: () => {} });
    await actor.start();
    const switchboard = new Switchboard(actor);
    const { reactorSide, primarySide } = memoryPair();
    // Between the reactor and the switchboard: while frozen, what the reactor sends waits here.
    let frozen = false;
    const held: UpMsg[][] = [];
    let deliverUp: (batch: UpMsg[]) => void = () => {};
    primarySide.onReceive((batch) => (frozen ? held.push(batch) : deliverUp(batch)));
    const gate: Transport<DownMsg, UpMsg> = { send: (b) => primarySide.send(b), onReceive: (h) => (deliverUp = h) };
    switchboard.attach(1, gate);
    const link = new LinkClient(reactorSide);
    const reactor = new Reactor({ router: new HubRouter(link), db: new LinkDb(link), scryptLogN: 10, log: () => {}, policy: NO_BUCKETS });
    const port = await reactor.listen('127.0.0.1', 0);
    try {
      const a = await loggedIn(port);
      await a.client.call(Req.JOIN, { room: '#flood' });
      frozen = true;
      const n = 30_000;
      let answered = 0;
      a.client.onPush = () => {};
      const all = new Promise<void>((resolve) => {
        for (let i = 0; i < n; i++) {
          (a.client as unknown as { waiting: Map<number, () => void> }).waiting.set(200_000 + i, () => {
            if (++answered === n) resolve();
          });
        }
      });
      // SAY is answered by the reactor at once and posted to the hub: nothing to wait for but the link.
      a.client.writeRaw(Buffer.concat(Array.from({ length: n }, (_, i) => encodeFrame(Req.SAY, { id: 200_000 + i, room: '#flood', text: 'x' }))));
      await new Promise((r) => setTimeout(r, 1_500));
      const queued = held.reduce((k, b) => k + b.length, 0);
      expect(link.congested).toBe(true);
      expect(answered).toBeLessThan(n);
      // Bounded: what waits for the primary is about one flow window, not 30,000 messages.
      expect(queued).toBeLessThanOrEqual(DEFAULT_FLOW.maxUnconfirmed + DEFAULT_FLOW.maxUnconfirmed / DEFAULT_FLOW.syncEvery + 64);
      frozen = false;
      for (const b of held.splice(0)) deliverUp(b);
      await all;
      expect(answered).toBe(n);
      await a.client.close();
    } finally {
      await reactor.shutdown(2_000);
      await actor.close();
    }
  });
});

describe('a reactor that falls behind on what the primary sends it', () => {
  const SMALL_WINDOW = { maxUnconfirmed: 1_024, syncEvery: 64 };
  it('slows the other reactors down (bounded queue to it), and gets everything when it catches up', { timeout: 60_000 }, async () => {
    const actor = new DbActor({ file: path.join(tempDir(), 'wizz.db'), log: () => {} });
    await actor.start();
    const switchboard = new Switchboard(actor);
    const reactors: Reactor[] = [];
    const links: LinkClient[] = [];
    const ports: number[] = [];
    // Down to reactor 2: while frozen, batches wait here (as in a slow reactor's IPC pipe).
    let frozen = false;
    const held: DownMsg[][] = [];
    let toReactor2: (batch: DownMsg[]) => void = () => {};
    for (let i = 1; i <= 2; i++) {
      const { reactorSide, primarySide } = memoryPair();
      const side: Transport<DownMsg, UpMsg> =
        i === 1
          ? primarySide
          : {
              send: (b) => (frozen ? held.push(b) : toReactor2(b)),
              onReceive: (h) => primarySide.onReceive(h),
            };
      if (i === 2) toReactor2 = (b) => primarySide.send(b);
      switchboard.attach(i, side);
      const link = new LinkClient(reactorSide, SMALL_WINDOW);
      links.push(link);
      const reactor = new Reactor({ router: new HubRouter(link), db: new LinkDb(link), scryptLogN: 10, log: () => {}, policy: NO_BUCKETS });
      reactors.push(reactor);
      ports.push(await reactor.listen('127.0.0.1', 0));
    }
    try {
      const speaker = await loggedIn(ports[0]!);
      const listener = await loggedIn(ports[1]!);
      await speaker.client.call(Req.JOIN, { room: '#far' });
      await listener.client.call(Req.JOIN, { room: '#far' });
      let heard = 0;
      listener.client.retainPushed = false;
      listener.client.onPush = (f) => f.type === Srv.ROOM && heard++;
      frozen = true;
      const n = 40_000;
      let answered = 0;
      speaker.client.onPush = () => {};
      const all = new Promise<void>((resolve) => {
        for (let i = 0; i < n; i++) {
          (speaker.client as unknown as { waiting: Map<number, () => void> }).waiting.set(300_000 + i, () => {
            if (++answered === n) resolve();
          });
        }
      });
      speaker.client.writeRaw(Buffer.concat(Array.from({ length: n }, (_, k) => encodeFrame(Req.SAY, { id: 300_000 + k, room: '#far', text: 'x' }))));
      await new Promise((r) => setTimeout(r, 2_000));
      const waiting = held.reduce((k, b) => k + b.length, 0);
      // The speaker's reactor stopped taking its SAYs: what waits for reactor 2 is bounded.
      expect(links[0]!.congested).toBe(true);
      expect(answered).toBeLessThan(n);
      // At most the primary's bound, plus what the speaker's reactor had in flight (two windows).
      expect(waiting).toBeLessThanOrEqual(DOWN_MAX_IN_FLIGHT + 2 * SMALL_WINDOW.maxUnconfirmed + 500);
      // Reactor 2 catches up at the pace of a pipe: one batch per loop turn.
      while (held.length > 0) {
        toReactor2(held.shift()!);
        await new Promise((r) => setImmediate(r));
      }
      frozen = false;
      await all;
      await eventually(() => heard === n, 20_000);
      await Promise.all([speaker.client.close(), listener.client.close()]);
    } finally {
      await Promise.all(reactors.map((r) => r.shutdown(2_000)));
      await actor.close();
    }
  });
});
