// Bad input never hurts the server: property-based fuzzing (fast-check) of the frame decoder, and
// of the running server with one and with two reactors — ≥ 100,000 hostile frames in all (see
// server/testing/fuzz.ts for the cases and the documented outcome each must get). Throughout,
// well-behaved clients keep chatting; afterwards no connection is left open, the frame pool is back
// to its baseline (nothing live, no slab pinned), no reactor logged a bug, nothing was rejected
// unhandled. `npm run fuzz -- --frames N` runs more.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import path from 'node:path';
import { startHarness, type Harness } from '../testing/harness.ts';
import { eventually, loggedIn, tempDir } from '../testing/helpers.ts';
import { fuzzServer, frameBytes, referenceParse, requestCase } from '../testing/fuzz.ts';
import { FrameDecoder, FrameError, MAX_FRAME_LENGTH, type Frame } from '../protocol/frame.ts';
import { Req, Srv } from '../protocol/codes.ts';

/** Frames per reactor configuration: two configurations, ≥ 100,000 in all. */
const FRAMES = 52_000;

function decodeAll(stream: Uint8Array, cuts: number[], stopEvery = 0): { frames: Frame[]; error: FrameError | null } {
  const d = new FrameDecoder();
  const frames: Frame[] = [];
  let n = 0;
  const take = (f: Frame) => {
    frames.push(f);
    return stopEvery === 0 || ++n % stopEvery !== 0;
  };
  try {
    let prev = 0;
    for (const [i, p] of [...cuts, stream.length].entries()) {
      // Resume after every other chunk: the chunks between arrive while the decoder is stopped.
      d.decode(stream.subarray(prev, p), take);
      if (i % 2 === 1) while (d.stopped) d.resume(take);
      prev = p;
    }
    while (d.stopped) d.resume(take);
  } catch (err) {
    if (!(err instanceof FrameError)) throw err; // anything else escaping the decoder is a bug
    return { frames, error: err };
  }
  return { frames, error: null };
}

const cutsOf = (length: number) => fc.array(fc.nat(), { maxLength: 12 }).map((cs) => [...new Set(cs.map((c) => c % (length + 1)))].sort((a, b) => a - b));

describe('the frame decoder under random input', () => {
  const stream = fc.oneof(
    fc.uint8Array({ maxLength: 400 }),
    fc.array(requestCase, { maxLength: 6 }).map((cs) => Buffer.concat(cs.map((c) => frameBytes(c.type, c.json)))),
    fc
      .tuple(fc.array(requestCase, { maxLength: 3 }), fc.uint8Array({ maxLength: 40 }))
      .map(([cs, tail]) => Buffer.concat([...cs.map((c) => frameBytes(c.type, c.json)), tail])),
  );

  it('agrees with the reference parser on any stream cut anywhere, throwing nothing but FrameError', () => {
    fc.assert(
      fc.property(stream.chain((s) => fc.tuple(fc.constant(s), cutsOf(s.length), fc.integer({ min: 0, max: 3 }))), ([s, cuts, stopEvery]) => {
        const ref = referenceParse(s);
        const got = decodeAll(s, cuts, stopEvery);
        expect(got.frames).toEqual(ref.frames);
        expect(got.error !== null).toBe(ref.end === 'bad');
      }),
      { numRuns: 3_000 },
    );
  });

  it('judges lengths 0, 65,537 and 2^32−1 from the header alone, and stays poisoned', () => {
    for (const n of [0, MAX_FRAME_LENGTH + 1, 0xffffffff]) {
      const h = Buffer.alloc(4);
      h.writeUInt32BE(n);
      for (const cut of [0, 1, 2, 3]) {
        const d = new FrameDecoder();
        d.push(h.subarray(0, cut));
        expect(() => d.push(h.subarray(cut))).toThrow(FrameError);
        expect(() => d.push(frameBytes(Req.PING, '{"id":1}'))).toThrow(FrameError);
      }
    }
  });

  it('stops after the frame its consumer refuses and resumes where it stopped', () => {
    const bytes = Buffer.concat(Array.from({ length: 10 }, (_, i) => frameBytes(Req.PING, JSON.stringify({ id: i }))));
    const d = new FrameDecoder();
    const ids: unknown[] = [];
    d.decode(bytes, (f) => ids.push(f.body.id) < 3);
    expect(ids).toEqual([0, 1, 2]);
    expect(d.stopped).toBe(true);
    expect(d.pending).toBe(bytes.length - 3 * frameBytes(Req.PING, '{"id":0}').length);
    d.resume((f) => {
      ids.push(f.body.id);
    });
    expect(ids).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(d.stopped).toBe(false);
    expect(d.pending).toBe(0);
  });
});

for (const reactors of [1, 2]) {
  describe(`the running server with ${reactors} reactor${reactors > 1 ? 's' : ''} under fuzzed frames`, () => {
    let h: Harness;
    const logged: string[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (err: unknown) => unhandled.push(err);
    beforeAll(async () => {
      process.on('unhandledRejection', onUnhandled);
      process.on('uncaughtException', onUnhandled);
      h = await startHarness({
        dbFile: path.join(tempDir(), 'wizz.db'),
        reactors,
        log: (line) => logged.push(line),
        // The oracle predicts each reply; token buckets would add rate_limited anywhere.
        policy: { requests: { burst: 0, refillPerS: 0 } },
      });
    });
    afterAll(async () => {
      process.off('unhandledRejection', onUnhandled);
      process.off('uncaughtException', onUnhandled);
      await h?.stop();
    });

    it(`answers ${FRAMES.toLocaleString('en')}+ hostile frames as documented, keeps serving, leaks nothing`, { timeout: 120_000 }, async () => {
      const baseline = h.reactors.map((r) => r.pool.stats);
      // Two well-behaved users on different reactors (when there are two) chat all along.
      const alice = await loggedIn(h.ports[0]!);
      const bob = await loggedIn(h.ports[reactors - 1]!);
      await alice.client.call(Req.JOIN, { room: '#calm' });
      await bob.client.call(Req.JOIN, { room: '#calm' });
      let chatting = true;
      let exchanged = 0;
      const chat = (async () => {
        while (chatting) {
          const text = `m${exchanged}`;
          const sent = await alice.client.call(Req.SEND, { to: bob.user, text });
          expect((await bob.client.nextPush((f) => f.type === Srv.MESSAGE && f.body.msgId === sent.msgId)).body.text).toBe(text);
          await bob.client.call(Req.SAY, { room: '#calm', text });
          expect((await alice.client.nextPush((f) => f.type === Srv.ROOM && f.body.text === text)).body.from).toBe(bob.user);
          exchanged++;
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const result = await fuzzServer({ ports: h.ports, frames: FRAMES });
      chatting = false;
      await chat;
      expect(result.frames).toBeGreaterThanOrEqual(FRAMES);
      expect(exchanged).toBeGreaterThan(5); // the well-behaved pair was served throughout
      await Promise.all([alice.client.close(), bob.client.close()]);
      // Nothing leaked: every connection gone, every pooled frame released, no slab pinned.
      await eventually(() => h.reactors.every((r) => r.connectionCount === 0), 10_000);
      await eventually(() => h.reactors.every((r) => r.pool.stats.liveFrames === 0 && r.pool.stats.slabsPinned === 0), 5_000);
      for (const [i, r] of h.reactors.entries()) expect(r.pool.stats.slabsAllocated - baseline[i]!.slabsAllocated).toBeLessThanOrEqual(64);
      expect(logged).toEqual([]);
      expect(unhandled).toEqual([]);
    });
  });
}
