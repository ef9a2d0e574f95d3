// Two ways to handle the same stream of chat messages, with opposite allocation behaviour.
// Both parse a frame-like payload, build the delivery and checksum it, so the CPU work is alike;
// only where the bytes live differs.

export interface Workload {
  name: string;
  /** Handles `messages` messages; returns a checksum so no work can be optimised away. */
  run(messages: number): number;
}

const TEXT = 'the quick brown fox jumps over the lazy dog, again and again, in a busy chat room';

/**
 * Allocates per message, like a naive server: a JSON string, a Buffer of its bytes, a parsed
 * object, a reply object with arrays — and keeps the last `window` replies alive (a history), so
 * many objects survive a young-generation collection and must be copied and promoted.
 */
export function allocating(window = 40_000): Workload {
  return {
    name: 'allocating',
    run(messages) {
      const history: unknown[] = new Array(window);
      let checksum = 0;
      for (let i = 0; i < messages; i++) {
        const json = JSON.stringify({ from: `user${i % 1000}`, to: 'lobby', text: TEXT, seq: i });
        const read = Buffer.from(json);
        const body = JSON.parse(read.toString('utf8')) as Record<string, unknown>;
        const reply = { ...body, deliveredAt: i, tags: [i, i + 1, i + 2], copies: new Array(8).fill(body.text) };
        history[i % window] = reply;
        checksum = (checksum + read.length + (body.seq as number)) | 0;
      }
      return checksum;
    },
  };
}

/**
 * Reuses what it can: one read buffer and one output buffer for the whole run, bytes written in
 * place, not one object allocated per message. Similar work, nothing for the collector.
 */
export function preallocated(): Workload {
  const read = new Uint8Array(4096);
  const out = new Uint8Array(4096);
  const text = new TextEncoder().encode(TEXT);
  return {
    name: 'preallocated',
    run(messages) {
      let checksum = 0;
      for (let i = 0; i < messages; i++) {
        // "receive": a header (seq, sender) and the text into the reused read buffer
        read[0] = i & 0xff;
        read[1] = (i >> 8) & 0xff;
        read[2] = i % 1000 & 0xff;
        read.set(text, 4);
        // "deliver": a new header, the body copied across, checksummed
        out[0] = read[0]!;
        out[1] = read[1]!;
        out[2] = 0x11;
        for (let k = 4; k < 4 + text.length; k++) out[k] = read[k]!;
        for (let k = 0; k < 4 + text.length; k += 8) checksum = (checksum + out[k]!) | 0;
      }
      return checksum;
    },
  };
}
