// Stage 06 graders, part 3: the round trip the reactor uses — validated payloads out to encoder
// workers through rings, encoded frames (or rejections) back through rings.
import { afterEach, describe, expect, it } from 'vitest';
import { parsePayload, HEADER_BYTES } from '#server/protocol/frame.ts';
import { EncoderPool } from '#stage/06-ring/pipeline.ts';
import { CHAT, DELIVER, REJECTED } from '#stage/06-ring/chat.ts';

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
  it('encodes 20,000 chats on 2 workers, rejects the invalid ones, keeps each sender in order', async () => {
    pool = new EncoderPool(2, 256);
    const senders = Array.from({ length: 40 }, (_, i) => `user${i}`);
    const total = 20_000;
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
    const feed = setInterval(() => {
      while (sent < total) {
        const { from, bytes } = outbox[sent]!;
        const w = pool!.workerFor(from);
        if (!pool!.submit(from, bytes)) break; // ring full: try again on the next tick
        if (!pendingPerWorker.has(w)) pendingPerWorker.set(w, []);
        pendingPerWorker.get(w)!.push(from);
        sent++;
      }
      if (sent === total) clearInterval(feed);
    }, 1);
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
      },
      () => received >= total,
    );
    expect(received).toBe(total);
    expect(rejectedSeen, 'invalid chats (text not a string) must come back as rejections').toBe(total / 10);
    for (const s of senders) expect(got.get(s), `replies for ${s}, in the order ${s} sent`).toEqual(expected.get(s));
  });
});
