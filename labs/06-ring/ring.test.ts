// Stage 06 graders, part 1: the ring on its own, in one thread, deterministically.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Doorbell, HEAD_BYTE, SpscRing, TAIL_BYTE } from '#stage/06-ring/ring.ts';

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

  it('rejects a capacity that is not a power of two', () => {
    expect(() => SpscRing.create(6, 4)).toThrow(RangeError);
    expect(() => SpscRing.create(0, 4)).toThrow(RangeError);
  });
});
