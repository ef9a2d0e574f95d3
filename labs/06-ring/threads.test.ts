// Stage 06 graders, part 2: real threads. Several producer workers, one consumer on the main
// thread (the reactor), a million messages, and an event loop that must keep ticking; then the
// reactor's round trip to encoder workers and back. One file, so these thread-heavy tests run one
// after the other instead of fighting for the same cores.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Worker } from 'node:worker_threads';
import { parsePayload, HEADER_BYTES } from '#server/protocol/frame.ts';
import { startProducers } from '#stage/06-ring/producers.ts';
import { EncoderPool } from '#stage/06-ring/pipeline.ts';
import { CHAT, DELIVER, REJECTED } from '#stage/06-ring/chat.ts';
import { HEAD_BYTE, TAIL_BYTE, type Doorbell, type SpscRing } from '#stage/06-ring/ring.ts';
import { StallError, describeRings, watchProgress } from '#kit/stall.ts';

let workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.map((w) => w.terminate()));
  workers = [];
});

/** Counts timer ticks and the longest gap between two, to see whether the loop stayed free. */
function watchLoop(periodMs: number) {
  let last = performance.now();
  let maxGap = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    ticks++;
  }, periodMs);
  return { stop: () => (clearInterval(timer), { maxGap, ticks }) };
}

/** Bounds a start-up or shutdown wait (loading TypeScript in a thread is slow on a busy machine). */
function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

const LAYOUT = { capacity: 0, head: HEAD_BYTE / 4, tail: TAIL_BYTE / 4 };
const waitingIn = (rings: SpscRing[]) => rings.some((r) => ((Atomics.load(r.i32, LAYOUT.tail) - Atomics.load(r.i32, LAYOUT.head)) | 0) > 0);

/**
 * Waits for the reactor's consumer loop. A hang is reported within seconds, with the rings and the
 * doorbell as they are at the stall: messages waiting while the consumer idles for 1 s, or no
 * progress at all for 5 s. `count` is read at the stall, not when the wait began.
 */
function consume(running: Promise<void>, rings: SpscRing[], bell: Doorbell, count: () => number, what: string, consumer = 'the consumer') {
  const watched = watchProgress(running, {
    what: `${what}: ${consumer}`,
    progress: count,
    stallMs: 5000,
    stuck: () => waitingIn(rings),
    stuckMs: 1000,
    state: () => `after ${count().toLocaleString('en-US')} messages — ${describeRings(rings, LAYOUT, bell.word, consumer)}`,
  });
  watched.catch((err: unknown) => {
    if (err instanceof StallError) hungIn ??= what;
  });
  return watched;
}

// After one hang, the other thread tests would only hang the same way, seconds each: they are
// skipped (and say why), so the report comes back fast with the first hang's explanation.
let hungIn: string | null = null;
beforeEach((ctx) => {
  if (hungIn) ctx.skip(`skipped: the consumer already hung in an earlier test (${hungIn}) — fix that first`);
});

describe('06-ring: many producers, one reactor', () => {
  it('delivers 1,000,000 messages from 4 producer threads: none lost, none duplicated, each producer in order', async () => {
    const producers = 4;
    const perProducer = 250_000;
    const run = startProducers({ producers, perProducer, capacity: 1024 });
    workers = run.workers;
    await withTimeout(run.ready, 30_000, 'producer threads did not start');
    const next = new Array<number>(producers).fill(0);
    let total = 0;
    let firstError: string | null = null;
    await consume(
      run.fanIn.run(
        (p, message) => {
          const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
          const from = view.getUint32(0, true);
          const seq = view.getUint32(4, true);
          if (firstError === null && (message.byteLength !== 8 || from !== p || seq !== next[p])) {
            firstError = `message #${total} from ring ${p}: got (producer ${from}, seq ${seq}, ${message.byteLength} bytes), expected (producer ${p}, seq ${next[p]}, 8 bytes)`;
          }
          next[p]!++;
          total++;
        },
        () => total >= producers * perProducer,
      ),
      run.fanIn.rings,
      run.fanIn.doorbell,
      () => total,
      '1,000,000 messages from 4 producers',
    );
    expect(firstError, 'a message arrived out of order, twice, or corrupted').toBeNull();
    const reports = await withTimeout(run.finished, 5_000, 'producers did not finish');
    expect(next, 'messages received per producer').toEqual(new Array(producers).fill(perProducer));
    expect(reports.reduce((s, r) => s + r.pushed, 0)).toBe(producers * perProducer);
    // A ring of 1024 against a producer that never stops must have filled up at least once.
    expect(reports.some((r) => r.fullWaits > 0), 'no producer ever saw its ring full: is push really refusing when full?').toBe(true);
  }, 90_000);

  it('keeps the event loop responsive while the consumer waits for busy workers', async () => {
    // Producers burn 1.5 s of CPU before their first message; meanwhile the reactor has nothing
    // to do and must wait without blocking its thread. A blocking wait freezes the timer for the
    // whole 1.5 s; the bound is far below that and far above a busy machine's scheduling hiccups.
    const run = startProducers({ producers: 2, perProducer: 1000, capacity: 64, delayMs: 1500 });
    workers = run.workers;
    await withTimeout(run.ready, 30_000, 'producer threads did not start');
    const loop = watchLoop(10);
    let total = 0;
    await consume(run.fanIn.run(() => void total++, () => total >= 2000), run.fanIn.rings, run.fanIn.doorbell, () => total, '2,000 messages after 1.5 s of busy producers');
    const { maxGap, ticks } = loop.stop();
    expect(total).toBe(2000);
    expect(maxGap, `a 10 ms timer went ${maxGap.toFixed(0)} ms without firing: the consumer blocked the event loop while waiting (Atomics.wait on the main thread?). Wait with Atomics.waitAsync (hint 2)`).toBeLessThan(700);
    expect(ticks, 'timer ticks while the workers were busy').toBeGreaterThan(30);
  }, 60_000);
});

let pool: EncoderPool | null = null;
afterEach(async () => {
  await pool?.close();
  pool = null;
});

const encoder = new TextEncoder();
const payload = (type: number, body: unknown) => {
  const json = encoder.encode(JSON.stringify(body));
  const out = new Uint8Array(1 + json.length);
  out[0] = type;
  out.set(json, 1);
  return out;
};

describe('06-ring: reactor → encoder workers → reactor', () => {
  it('encodes 6,000 chats on 2 workers, rejects the invalid ones, keeps each sender in order', async () => {
    pool = new EncoderPool(2, 1024);
    const senders = Array.from({ length: 40 }, (_, i) => `user${i}`);
    const total = 6_000;
    const expected = new Map<string, Array<{ type: number; text: string }>>(senders.map((s) => [s, []]));
    const outbox: Array<{ from: string; bytes: Uint8Array }> = [];
    for (let i = 0; i < total; i++) {
      const from = senders[i % senders.length]!;
      const text = `message ${i}`;
      // every 10th message is invalid: text is a number
      const valid = i % 10 !== 3;
      outbox.push({ from, bytes: payload(CHAT, { from, to: 'room', text: valid ? text : i }) });
      expected.get(from)!.push({ type: valid ? DELIVER : REJECTED, text });
    }
    const got = new Map<string, Array<{ type: number; text: string }>>(senders.map((s) => [s, []]));
    let received = 0;
    let sent = 0;
    let rejectedSeen = 0;
    // A rejection carries no sender: each worker answers in order, so remember who sent what to it.
    const pendingPerWorker = new Map<number, string[]>();
    // Feed the workers until their rings are full, then one more each time a reply frees room:
    // everything happens on this thread's event loop, as in a reactor.
    const feed = () => {
      while (sent < total) {
        const { from, bytes } = outbox[sent]!;
        const w = pool!.workerFor(from);
        if (!pool!.submit(from, bytes)) return; // that worker's ring is full: backpressure
        if (!pendingPerWorker.has(w)) pendingPerWorker.set(w, []);
        pendingPerWorker.get(w)!.push(from);
        sent++;
      }
    };
    feed();
    const replies = pool.fanIn;
    const inboxes = pool.inboxes;
    await consume(pool.run(
      (worker, frame) => {
        const from = pendingPerWorker.get(worker)!.shift()!;
        const length = new DataView(frame.buffer, frame.byteOffset).getUint32(0, false);
        const parsed = parsePayload(frame.subarray(HEADER_BYTES, HEADER_BYTES + length));
        if (parsed.type === REJECTED) rejectedSeen++;
        const text = parsed.type === DELIVER ? String(parsed.body.text) : expected.get(from)![got.get(from)!.length]!.text;
        got.get(from)!.push({ type: parsed.type, text });
        if (parsed.type === DELIVER) expect(parsed.body.from, 'a delivery frame names its sender').toBe(from);
        received++;
        feed();
      },
      () => received >= total,
    ), replies.rings, replies.doorbell, () => received, '6,000 chats through 2 encoder workers', 'the reactor').catch((err: Error) => {
      // Which side stopped? Add the workers' inboxes (requests not yet taken) to the picture.
      const inbox = inboxes.map((r, w) => `#${w} head ${Atomics.load(r.i32, LAYOUT.head)} tail ${Atomics.load(r.i32, LAYOUT.tail)}`);
      err.message += `\n${sent.toLocaleString('en-US')} chats sent so far; the workers' inboxes: ${inbox.join('; ')}`;
      throw err;
    });
    expect(received).toBe(total);
    expect(rejectedSeen, 'invalid chats (text not a string) must come back as rejections').toBe(total / 10);
    for (const s of senders) expect(got.get(s), `replies for ${s}, in the order ${s} sent`).toEqual(expected.get(s));
  }, 60_000);
});
