// Stage 06 graders, part 2: real threads. Several producer workers, one consumer on the main
// thread (the reactor), a million messages, and an event loop that must keep ticking; then the
// reactor's round trip to encoder workers and back. One file, so these thread-heavy tests run one
// after the other instead of fighting for the same cores.
import { afterEach, describe, expect, it } from 'vitest';
import type { Worker } from 'node:worker_threads';
import { parsePayload, HEADER_BYTES } from '#server/protocol/frame.ts';
import { startProducers } from '#stage/06-ring/producers.ts';
import { EncoderPool } from '#stage/06-ring/pipeline.ts';
import { CHAT, DELIVER, REJECTED } from '#stage/06-ring/chat.ts';

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

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing for ${ms} ms — a lost wake-up? (hint 3)`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

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
    await withTimeout(
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
      25_000,
      `after ${total} messages the consumer stalled`,
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
    await withTimeout(run.fanIn.run(() => void total++, () => total >= 2000), 10_000, `after ${total} messages the consumer stalled`);
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
    await pool.run(
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
    );
    expect(received).toBe(total);
    expect(rejectedSeen, 'invalid chats (text not a string) must come back as rejections').toBe(total / 10);
    for (const s of senders) expect(got.get(s), `replies for ${s}, in the order ${s} sent`).toEqual(expected.get(s));
  }, 60_000);
});
