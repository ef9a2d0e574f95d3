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
 * Allocates per message, like a naive server: a fresh read buffer, a decoded string, a parsed
 * object, an encoded reply — and keeps the last few thousand messages alive for a while (a
 * history window), so many objects survive a young-generation collection and must be copied.
 */
export const allocating: Workload = {
  name: 'allocating',
  run(messages) {
    const history: Array<{ body: Record<string, unknown>; frame: Buffer }> = new Array(8192);
    let checksum = 0;
    for (let i = 0; i < messages; i++) {
      const read = Buffer.alloc(4096); // a fresh read buffer for every message
      const json = JSON.stringify({ from: `user${i % 1000}`, to: 'lobby', text: TEXT, seq: i });
      const n = read.write(json);
      const body = JSON.parse(read.toString('utf8', 0, n)) as Record<string, unknown>;
      const frame = Buffer.from(JSON.stringify({ ...body, deliveredAt: i, tags: [i, i + 1, i + 2] }));
      history[i & 8191] = { body, frame };
      checksum = (checksum + frame.length + (body.seq as number)) | 0;
    }
    return checksum;
  },
};

/**
 * Reuses what it can: one read buffer and one output buffer for the whole run, bytes written in
 * place, no per-message objects kept. The same work, almost nothing for the collector.
 */
export const preallocated: Workload = {
  name: 'preallocated',
  run(messages) {
    const read = new Uint8Array(4096);
    const out = new Uint8Array(4096);
    const text = new TextEncoder().encode(TEXT);
    let checksum = 0;
    for (let i = 0; i < messages; i++) {
      // "receive": header (seq, sender) + text into the reused read buffer
      read[0] = i & 0xff;
      read[1] = (i >> 8) & 0xff;
      read[2] = i % 1000 & 0xff;
      read.set(text, 4);
      // "deliver": copy into the reused output buffer with a new header, checksum it
      out[0] = read[0]!;
      out[1] = read[1]!;
      out[2] = 0x11;
      out.copyWithin(0, 0, 0);
      out.set(read.subarray(4, 4 + text.length), 4);
      for (let k = 0; k < 4 + text.length; k += 8) checksum = (checksum + out[k]!) | 0;
    }
    return checksum;
  },
};
