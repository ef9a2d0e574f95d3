// Stage 06 graders, part 3: interleavings, forced instead of hoped for. Two real threads meet in the
// window between "the producer looked at head" and "it published tail" perhaps once in a billion
// pushes; here the grader stops your push (or your run()) before each of its Atomics calls on the
// ring's memory and lets the other side act at exactly that point — every point, every run
// (#kit/interleave.ts, in the spirit of loom and jcstress). The other side is the protocol the
// README describes, played by the grader.
import { describe, expect, it } from 'vitest';
import { Doorbell, HEAD_BYTE, TAIL_BYTE, SpscRing } from '#stage/06-ring/ring.ts';
import { FanIn } from '#stage/06-ring/fan-in.ts';
import { atomicallyWritten, describeSteps, withAtomicSteps, type AtomicStep } from '#kit/interleave.ts';

const REPLAY = 'Replay: npm test -- 06 (deterministic: the same steps every run)';
const CAPACITY = 4;
/** Ring states to start from: how many messages wait, and where the free-running counters stand. */
const STARTS = [0, 1, 2, CAPACITY - 1].flatMap((held) => [0, 0x7fff_fffe].map((counter) => ({ held, counter })));

function ringAt(counter: number, held: number, bell: Doorbell): { producer: SpscRing; consumer: SpscRing; next: number } {
  const producer = SpscRing.create(CAPACITY, 1, bell);
  producer.i32[HEAD_BYTE / 4] = counter;
  producer.i32[TAIL_BYTE / 4] = counter;
  for (let i = 0; i < held; i++) producer.push(Uint8Array.of(i));
  return { producer, consumer: new SpscRing(producer.sab, bell), next: held };
}

function namer(ring: SpscRing, bell: Doorbell): (s: AtomicStep) => string {
  return (s) => (s.buffer === bell.sab ? 'doorbell' : s.byte === HEAD_BYTE ? 'head' : s.byte === TAIL_BYTE ? 'tail' : `slot byte ${s.byte}`) + (s.buffer === ring.sab || s.buffer === bell.sab ? '' : '?');
}

describe('06-ring: every interleaving of a push with a consumer going to sleep (loom-style)', () => {
  it('a consumer that empties the ring and sleeps at any point of a push is always woken (no lost wake-up)', () => {
    for (const { held, counter } of STARTS) {
      // Dry run: the push's steps from this state.
      const dry = new Doorbell();
      const d = ringAt(counter, held, dry);
      const { steps } = withAtomicSteps([d.producer.sab, dry.sab], () => {}, () => d.producer.push(Uint8Array.of(d.next)));
      for (let at = 0; at <= steps.length; at++) {
        const bell = new Doorbell();
        const { producer, consumer, next } = ringAt(counter, held, bell);
        const got: number[] = [];
        let asleepOn: number | null = null;
        // The consumer's protocol (the README's): read the doorbell, drain, and sleep on the value
        // read if the drain found nothing.
        const catchUpAndSleep = () => {
          for (let round = 0; round < CAPACITY + 2; round++) {
            const seen = bell.read();
            let n = 0;
            for (let m = consumer.pop(); m !== null; m = consumer.pop()) got.push(m[0]!), n++;
            if (n === 0) return void (asleepOn = seen);
          }
        };
        const { steps: run } = withAtomicSteps([producer.sab, bell.sab], (_s, k) => k === at && catchUpAndSleep(), () => producer.push(Uint8Array.of(next)));
        if (at === run.length) catchUpAndSleep();
        const where = `ring of ${CAPACITY} holding ${held} message(s), head = tail = ${counter === 0 ? 0 : '0x7ffffffe (about to wrap past 2^31)'} before the push`;
        expect(
          asleepOn !== null && bell.read() === asleepOn && consumer.size > 0,
          `Lost wake-up. ${where}; the consumer emptied the ring and went to sleep on doorbell value ${asleepOn} at this point of your push:\n` +
            `${describeSteps(run, namer(producer, bell), at)}\n` +
            `After the push the ring holds ${consumer.size} message(s) and the doorbell still reads ${bell.read()}: nobody will ever wake the consumer.\n` +
            `Where to look: SpscRing.pushWith — whether the ring "was empty" must be decided from head read *after* publishing tail (hint 3).\n${REPLAY}`,
        ).toBe(false);
        for (let m = consumer.pop(); m !== null; m = consumer.pop()) got.push(m[0]!);
        const want = Array.from({ length: held + 1 }, (_, i) => i);
        expect(got, `${where}; a consumer that drained at step ${at} of the push: every message exactly once, in order\n${describeSteps(run, namer(producer, bell), at)}\n${REPLAY}`).toEqual(want);
      }
    }
  });

  it('publishes tail and head with Atomics writes (a plain store works on x86 and is not ordered by the memory model)', () => {
    const bell = new Doorbell();
    const { producer, consumer } = ringAt(0, 1, bell);
    const push = withAtomicSteps([producer.sab], () => {}, () => producer.push(Uint8Array.of(7)));
    expect(
      atomicallyWritten(push.steps, producer.sab, TAIL_BYTE),
      `push moved tail from 1 to ${producer.i32[TAIL_BYTE / 4]} without an Atomics write to it. Its Atomics calls were:\n${describeSteps(push.steps, namer(producer, bell), -1)}\n` +
        'A plain store (`i32[TAIL] = …`) passes every test on x86, whose stores are ordered anyway; on ARM (and for the JIT) nothing orders the slot\'s bytes before it, ' +
        'so a consumer may see the new tail before the message. Publish with Atomics.store (hint 2).\n' + REPLAY,
    ).toBe(true);
    const pop = withAtomicSteps([producer.sab], () => {}, () => consumer.pop());
    expect(
      atomicallyWritten(pop.steps, producer.sab, HEAD_BYTE),
      `pop moved head without an Atomics write to it. Its Atomics calls were:\n${describeSteps(pop.steps, namer(producer, bell), -1)}\n` +
        'Free the slot with Atomics.store(head) after reading it: a plain store lets the producer see the slot free before the read is done (ARM).\n' + REPLAY,
    ).toBe(true);
  });
});

describe('06-ring: every interleaving of run() deciding to sleep with a producer pushing', () => {
  it('a push that lands at any point while run() decides to sleep is delivered (no lost wake-up)', async () => {
    for (const rings of [1, 2]) {
      const dryBell = new Doorbell();
      const dryRings = Array.from({ length: rings }, () => SpscRing.create(CAPACITY, 1, dryBell));
      let stopDry = false;
      const dryRun = withAtomicSteps([dryBell.sab, ...dryRings.map((r) => r.sab)], () => {}, () => new FanIn(dryRings, dryBell).run(() => {}, () => stopDry));
      stopDry = true;
      dryBell.ring();
      await dryRun.result;
      for (let at = 0; at <= dryRun.steps.length; at++) {
        const bell = new Doorbell();
        const all = Array.from({ length: rings }, () => SpscRing.create(CAPACITY, 1, bell));
        const producer = new SpscRing(all[rings - 1]!.sab, bell);
        // The producer's protocol (the README's): push, and ring when the ring went from empty to
        // non-empty — here it always rings, so only the consumer can lose the wake-up.
        const push = () => {
          producer.push(Uint8Array.of(42));
          bell.ring();
        };
        let received = 0;
        let stop = false;
        const { result: running, steps } = withAtomicSteps([bell.sab, ...all.map((r) => r.sab)], (_s, k) => k === at && push(), () =>
          new FanIn(all, bell).run(() => void received++, () => stop || received >= 1),
        );
        if (at === steps.length) push();
        const deadline = Date.now() + 400;
        while (received === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
        const lost = received === 0;
        stop = true;
        bell.ring(); // let a sleeping run() see done() and return
        await Promise.race([running, new Promise((r) => setTimeout(r, 500))]);
        expect(
          lost,
          `Lost wake-up. run() over ${rings} empty ring(s): a producer pushed one message and rang the doorbell at this point of run()'s turn:\n` +
            `${describeSteps(steps, (s) => (s.buffer === bell.sab ? 'doorbell' : s.byte === HEAD_BYTE ? 'head' : s.byte === TAIL_BYTE ? 'tail' : `byte ${s.byte}`), at)}\n` +
            `400 ms later the message was still in the ring and run() asleep. Where to look: FanIn.run — read the doorbell *before* looking at the rings and wait on that value, ` +
            `so a push after the look changes the doorbell and the wait returns at once (hint 3).\n${REPLAY}`,
        ).toBe(false);
      }
    }
  });
});
