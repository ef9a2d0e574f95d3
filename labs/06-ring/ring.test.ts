// Stage 06 graders, part 1: the ring and the reactor's FanIn on one thread, deterministically
// (the threads come in threads.test.ts).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import { Doorbell, HEAD_BYTE, SLOTS_BYTE, SpscRing, TAIL_BYTE } from '#stage/06-ring/ring.ts';
import { DRAIN_BUDGET, FanIn } from '#stage/06-ring/fan-in.ts';
import { describeRings, watchProgress } from '#kit/stall.ts';

const bytesOf = (n: number) => Uint8Array.of(n & 0xff, (n >> 8) & 0xff);
const valueOf = (m: Uint8Array | null) => (m === null ? null : m[0]! | (m[1]! << 8));

describe('06-ring: the ring against a model queue (fast-check)', () => {
  it('push/pop/size behave like a bounded FIFO of exactly `capacity` messages', () => {
    const op = fc.oneof(fc.constant({ kind: 'pop' as const }), fc.integer({ min: 0, max: 65_535 }).map((v) => ({ kind: 'push' as const, v })));
    fc.assert(
      fc.property(fc.constantFrom(1, 2, 4, 8, 16), fc.array(op, { maxLength: 200 }), (capacity, ops) => {
        const ring = SpscRing.create(capacity, 2);
        const model: number[] = [];
        for (const [step, o] of ops.entries()) {
          if (o.kind === 'push') {
            const accepted = ring.push(bytesOf(o.v));
            const expected = model.length < capacity;
            expect(accepted, `step ${step}: push into a ring of capacity ${capacity} holding ${model.length} returned ${accepted}, expected ${expected} (hint 2: full is tail - head === capacity)`).toBe(expected);
            if (expected) model.push(o.v);
          } else {
            const got = valueOf(ring.pop());
            const expected = model.length === 0 ? null : model.shift()!;
            expect(got, `step ${step}: pop returned ${got}, the model queue says ${expected} (capacity ${capacity})`).toBe(expected);
          }
          expect(ring.size, `step ${step}: size`).toBe(model.length);
        }
      }),
      { numRuns: 300, seed: 6 },
    );
  });

  it('a full ring refuses the push (backpressure) and keeps every message it holds', () => {
    const ring = SpscRing.create(8, 2);
    for (let i = 0; i < 8; i++) expect(ring.push(bytesOf(i)), `push #${i} into a ring of 8`).toBe(true);
    expect(ring.push(bytesOf(99)), 'push into a full ring must return false, not overwrite the oldest message').toBe(false);
    for (let i = 0; i < 8; i++) expect(valueOf(ring.pop()), `pop #${i}`).toBe(i);
    expect(ring.pop(), 'the ring is empty now').toBeNull();
  });

  it('keeps working when the free-running head and tail counters wrap past 2^31', () => {
    const ring = SpscRing.create(4, 2);
    const start = 0x7fff_fffe; // two steps before Int32 overflow
    ring.i32[HEAD_BYTE / 4] = start;
    ring.i32[TAIL_BYTE / 4] = start;
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 4; i++) expect(ring.push(bytesOf(round * 4 + i)), `round ${round}: push ${i}`).toBe(true);
      expect(ring.push(bytesOf(0)), `round ${round}: the fifth push into a ring of 4 must fail`).toBe(false);
      for (let i = 0; i < 4; i++) expect(valueOf(ring.pop()), `round ${round}: pop ${i} after wrap-around`).toBe(round * 4 + i);
    }
  });
});

describe('06-ring: publication order and memory layout', () => {
  it('publishes a message only after its slot is written (checked mid-push from the consumer side)', () => {
    const producer = SpscRing.create(4, 16);
    const consumer = new SpscRing(producer.sab); // a second view of the same memory, as another thread has
    for (let i = 0; i < 6; i++) {
      let seenDuringFill: number | null = null;
      producer.pushWith((slot) => {
        // We are between "claim the slot" and "publish it": a consumer must not see it yet.
        seenDuringFill = consumer.size;
        slot.fill(0xab, 0, 16);
        return 16;
      });
      expect(seenDuringFill, `push #${i}: while the slot was still being written the consumer already saw ${seenDuringFill} message(s); publish (store tail) after writing (hint 2)`).toBe(0);
      const got = consumer.pop();
      expect(got && Array.from(got), `push #${i}: the consumer must read the bytes that were written`).toEqual(new Array(16).fill(0xab));
    }
  });

  it('frees a slot only after the consumer has read it', () => {
    const ring = SpscRing.create(2, 4);
    const producer = new SpscRing(ring.sab);
    ring.push(Uint8Array.of(1, 1, 1, 1));
    ring.push(Uint8Array.of(2, 2, 2, 2));
    let pushedWhileReading = true;
    ring.popWith(() => {
      pushedWhileReading = producer.push(Uint8Array.of(9, 9, 9, 9));
    });
    expect(pushedWhileReading, 'the producer could reuse a slot while the consumer was still reading it: store head after reading').toBe(false);
  });

  it('keeps head and tail in shared memory at their own cache lines, 64 bytes apart', () => {
    expect(TAIL_BYTE - HEAD_BYTE).toBeGreaterThanOrEqual(64);
    expect(HEAD_BYTE % 64).toBe(0);
    expect(TAIL_BYTE % 64).toBe(0);
    const ring = SpscRing.create(8, 4);
    const words = new Int32Array(ring.sab);
    for (let i = 0; i < 5; i++) ring.push(Uint8Array.of(i));
    ring.pop();
    expect(Atomics.load(words, TAIL_BYTE / 4), 'tail counter in shared memory after 5 pushes').toBe(5);
    expect(Atomics.load(words, HEAD_BYTE / 4), 'head counter in shared memory after 1 pop').toBe(1);
  });

  it('rings the doorbell when the ring goes from empty to non-empty, and not on every push', () => {
    const bell = new Doorbell();
    const ring = SpscRing.create(8, 1, bell);
    ring.push(Uint8Array.of(1));
    expect(bell.read(), 'first push into an empty ring must ring the doorbell').toBe(1);
    ring.push(Uint8Array.of(2));
    ring.push(Uint8Array.of(3));
    expect(bell.read(), 'pushes into a non-empty ring need no wake-up (each notify costs)').toBe(1);
    ring.pop(); ring.pop(); ring.pop();
    ring.push(Uint8Array.of(4));
    expect(bell.read(), 'empty again → non-empty rings again').toBe(2);
  });

  it('refuses a length from `fill` that does not fit the slot, and publishes nothing', () => {
    const ring = SpscRing.create(4, 8);
    for (const bad of [9, -1, 2.5]) {
      expect(() => ring.pushWith(() => bad), `fill returned ${bad} for an 8-byte slot: throw a RangeError`).toThrow(RangeError);
      expect(() => ring.pushWith(() => bad), `the RangeError must say what fill returned (${bad}), so the producer's bug is findable`).toThrow(String(bad));
      expect(ring.size, `after fill returned ${bad}, nothing may be published`).toBe(0);
    }
    expect(ring.pushWith(() => 0), 'a 0-byte message is fine').toBe(true);
    expect(ring.pop()?.length, 'and pops as 0 bytes').toBe(0);
  });

  it('rejects a capacity that is not a power of two, and slots of no bytes', () => {
    expect(() => SpscRing.create(6, 4)).toThrow(/power of two/);
    expect(() => SpscRing.create(0, 4)).toThrow(RangeError);
    expect(() => SpscRing.create(4, 0)).toThrow(/slotBytes/);
    expect(() => SpscRing.create(4, 1.5)).toThrow(/slotBytes/);
  });

  it('lays the slots out as documented: 192 bytes of header, then 4 + slotBytes (rounded up to 4) each', () => {
    expect(SpscRing.byteLength(4, 6)).toBe(192 + 4 * (4 + 8));
    expect(SpscRing.create(8, 16).sab.byteLength).toBe(192 + 8 * (4 + 16));
  });

  it('push refuses a message longer than a slot; pop hands out a copy the producer cannot overwrite', () => {
    const ring = SpscRing.create(1, 2);
    expect(() => ring.push(Uint8Array.of(1, 2, 3))).toThrow(/does not fit/);
    expect(ring.size, 'nothing published').toBe(0);
    ring.push(Uint8Array.of(1, 1));
    const first = ring.pop()!;
    ring.push(Uint8Array.of(2, 2)); // the same slot again
    expect(Array.from(first), 'pop() returns a copy: the slot is reused').toEqual([1, 1]);
  });

  it('waitForSpace sleeps while the ring is full and returns at once when it is not (given code)', () => {
    const ring = SpscRing.create(2, 1);
    ring.push(Uint8Array.of(1));
    ring.push(Uint8Array.of(2));
    ring.pop();
    ring.push(Uint8Array.of(3)); // head 1, tail 3: full
    let t = performance.now();
    ring.waitForSpace(60); // nobody pops: it must sleep the whole timeout
    expect(performance.now() - t, 'a full ring: the producer sleeps until the timeout').toBeGreaterThanOrEqual(50);
    ring.pop(); // head 2, tail 3: room for one
    t = performance.now();
    ring.waitForSpace(3000);
    expect(performance.now() - t, 'a ring with room: no sleep').toBeLessThan(1500);
  });
});

// ---------------------------------------------------------------------------------------------
// The reactor's side: FanIn, driven from this thread (a ring does not care which thread pushes).

const LAYOUT = { capacity: 0, head: HEAD_BYTE / 4, tail: TAIL_BYTE / 4 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Counts how often the consumer looks at a ring (popWith, pop and size all count). */
function countLooks(ring: SpscRing): () => number {
  let looks = 0;
  const popWith = ring.popWith.bind(ring);
  const size = Object.getOwnPropertyDescriptor(SpscRing.prototype, 'size')?.get;
  Object.defineProperty(ring, 'popWith', { value: (read: (m: Uint8Array) => void) => (looks++, popWith(read)) });
  if (size) Object.defineProperty(ring, 'size', { get: () => (looks++, size.call(ring)) });
  return () => looks;
}

/**
 * A producer on another thread that publishes one message into each ring and rings the doorbell —
 * when told to (`go()`), or after 1.5 s at the latest: a consumer that blocks this thread (the
 * mistake of Atomics.wait on the main thread) can then never tell it, and still gets woken.
 * Plain JS, writing the given ring layout directly, so it depends on none of the stage's code.
 */
async function rawProducer(rings: SpscRing[], bell: Doorbell): Promise<{ go: () => void; done: Promise<unknown> }> {
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    const { rings, bell, go, layout } = workerData;
    parentPort.postMessage('ready');
    Atomics.wait(new Int32Array(go), 0, 0, 1500);
    for (const sab of rings) {
      const i32 = new Int32Array(sab), bytes = new Uint8Array(sab);
      const capacity = i32[0], stride = 4 + Math.ceil(i32[1] / 4) * 4;
      const tail = Atomics.load(i32, layout.tail);
      const at = layout.slots + (tail & (capacity - 1)) * stride;
      i32[at >> 2] = 1;
      bytes[at + 4] = 7;
      Atomics.store(i32, layout.tail, (tail + 1) | 0);
    }
    const word = new Int32Array(bell);
    Atomics.add(word, 0, 1);
    Atomics.notify(word, 0);`;
  const go = new SharedArrayBuffer(4);
  const worker = new Worker(code, {
    eval: true,
    workerData: { rings: rings.map((r) => r.sab), bell: bell.sab, go, layout: { tail: LAYOUT.tail, slots: SLOTS_BYTE } },
  });
  await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const flag = new Int32Array(go);
  return { go: () => (Atomics.store(flag, 0, 1), Atomics.notify(flag, 0)), done: new Promise((r) => worker.once('exit', r)) };
}

/** Waits for a FanIn.run on this thread; a stall is reported in ~1 s with the rings' state. */
/** `emptyAndAsleep`: what run() asleep on empty rings means in this test (there are no producer threads here). */
function runWatched(running: Promise<void>, rings: SpscRing[], bell: Doorbell, progress: () => number, what: string, emptyAndAsleep: string) {
  return watchProgress(running, {
    what,
    progress,
    stallMs: 2000,
    stuck: () => rings.some((r) => ((Atomics.load(r.i32, LAYOUT.tail) - Atomics.load(r.i32, LAYOUT.head)) | 0) > 0),
    stuckMs: 1000,
    state: () => describeRings(rings, LAYOUT, bell.word, 'run()', emptyAndAsleep),
  });
}

describe('06-ring: FanIn, the reactor side, on one thread', () => {
  it('drain takes round-robin turns (no ring gets two ahead of one that still has messages), at most `budget`, each ring in order (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 16 }), { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 40 }), (fills, budget) => {
        const bell = new Doorbell();
        const rings = fills.map(() => SpscRing.create(16, 2, bell));
        fills.forEach((n, r) => {
          for (let s = 0; s < n; s++) rings[r]!.push(Uint8Array.of(r, s));
        });
        const got: Array<[number, number, number]> = [];
        const handled = new FanIn(rings, bell).drain((p, m) => void got.push([p, m[0]!, m[1]!]), budget);
        const total = fills.reduce((a, b) => a + b, 0);
        const setup = `rings holding [${fills.join(', ')}] messages, budget ${budget}`;
        expect(handled, `drain returned ${handled} with ${setup}: it must handle min(budget, messages waiting) = ${Math.min(budget, total)} and say so`).toBe(Math.min(budget, total));
        expect(got.length, `drain said it handled ${handled} but called onMessage ${got.length} times (${setup})`).toBe(handled);
        const taken = fills.map(() => 0);
        for (const [k, [p, r, s]] of got.entries()) {
          expect(p, `message #${k} came from ring ${r} but onMessage was told ring ${p} (${setup})`).toBe(r);
          expect(s, `message #${k} from ring ${r}: expected its message ${taken[r]}, got ${s} — each ring's order must be kept (${setup})`).toBe(taken[r]);
          taken[r]!++;
          const starved = taken.findIndex((t, q) => t < fills[q]! && taken[r]! > t + 1);
          expect(starved, `unfair: after ${k + 1} messages ring ${r} gave ${taken[r]} while ring ${starved} still had messages but gave only ${taken[starved]} (${setup}). Take one message per ring per pass, so a busy producer cannot starve the others`).toBe(-1);
        }
      }),
      { numRuns: 300, seed: 6 },
    );
  });

  it('sleeps while every ring is empty (no polling, idle CPU near zero), and wakes when a producer rings', async () => {
    const bell = new Doorbell();
    const rings = [0, 1, 2].map(() => SpscRing.create(8, 1, bell));
    const looks = rings.map(countLooks);
    let bellReads = 0;
    const read = bell.read.bind(bell);
    bell.read = () => (bellReads++, read());
    const producer = await rawProducer(rings, bell);
    let received = 0;
    const running = new FanIn(rings, bell).run(() => void received++, () => received >= 3);
    running.catch(() => {}); // a run() that fails is reported below, when it is awaited — not as an unhandled rejection
    await sleep(50); // let it settle into its wait
    const lookedBefore = Math.max(...looks.map((l) => l()));
    const readBefore = bellReads;
    await sleep(300); // every ring empty: a consumer that sleeps does nothing now
    const idleLooks = Math.max(...looks.map((l) => l())) - lookedBefore;
    const idleReads = bellReads - readBefore;
    producer.go(); // another thread publishes one message per ring and rings the doorbell
    await runWatched(running, rings, bell, () => received, 'run() after a producer thread pushed into the 3 rings it was sleeping on and rang',
      'the producer\'s 3 messages were taken off the rings, yet run() sleeps: once onMessage has had all 3, done() is true — ask it again after each drain, before sleeping.');
    await producer.done;
    expect(received).toBe(3);
    expect(
      idleLooks + idleReads,
      `with every ring empty for 300 ms, run() looked at a ring ${idleLooks} times and read the doorbell ${idleReads} times: it polls instead of sleeping, which keeps a core busy doing nothing. When a drain finds nothing, sleep on the doorbell with waitAsync until it changes (hint 2)`,
    ).toBeLessThanOrEqual(2);
  });

  it('returns as soon as done() says so, also when the drain found nothing (no sleeping on an empty ring first)', async () => {
    const bell = new Doorbell();
    const rings = [SpscRing.create(8, 1, bell)];
    let asked = 0;
    // done() turns true between the loop's check and the drain's end — as a stop flag another
    // thread sets would. Nobody will ring the doorbell again: sleeping on it now never ends.
    const running = new FanIn(rings, bell).run(() => {}, () => ++asked >= 2);
    await runWatched(running, rings, bell, () => asked, 'run() whose done() turned true during an empty drain',
      'done() is true by now and nothing will ever ring the doorbell again — ask done() at the top of every turn and again right after the drain, before sleeping (`while (!done()) { …drain…; if (done()) return; … }`).');
    expect(asked, 'done() is asked again right after the drain, before sleeping on the doorbell').toBeLessThanOrEqual(3);
  });

  it('lets a timer on its thread fire while messages keep coming (sustained load)', async () => {
    const bell = new Doorbell();
    const ring = SpscRing.create(64, 4, bell);
    const limit = 50 * DRAIN_BUDGET; // a producer that never lets up, but stops eventually
    let pushed = 0;
    const refill = () => {
      if (pushed < limit) pushed += ring.push(Uint8Array.of(1, 2, 3, 4)) ? 1 : 0;
    };
    for (let i = 0; i < 32; i++) refill();
    let handled = 0;
    let firedAfter: number | null = null;
    const timer = setTimeout(() => (firedAfter = handled), 0);
    const running = new FanIn([ring], bell).run(
      () => {
        handled++;
        refill(); // each message handled brings another: the rings never run dry
      },
      () => firedAfter !== null || handled >= limit,
    );
    try {
      await runWatched(running, [ring], bell, () => handled, 'run() under sustained load',
        'the test stopped feeding it because done() is true: run() must return then, not sleep — ask done() after each drain, before sleeping.');
    } finally {
      clearTimeout(timer);
    }
    expect(
      firedAfter,
      `a 0 ms timer set before run() had not fired after ${handled.toLocaleString('en-US')} messages: under load run() never gives the event loop a turn, so timers (and every socket) starve. After a full budget (${DRAIN_BUDGET}) await a macrotask such as setImmediate — a resolved promise is not enough (hint 2)`,
    ).not.toBeNull();
    expect(firedAfter!, `the timer fired only after ${firedAfter} messages: yield after each budget of ${DRAIN_BUDGET}`).toBeLessThanOrEqual(20 * DRAIN_BUDGET);
  });
});
