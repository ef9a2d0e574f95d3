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

/** What `storm` needs from a buffer pool: stage 05's BufferPool has exactly this. */
export interface ChunkPool {
  acquire(): number | null;
  bytes(handle: number): Uint8Array;
  release(handle: number): void;
}

export const STORM_CHUNK_BYTES = 4096;

/**
 * The smallest pool that does stage 05's job for `storm`: one slab cut into chunks, a stack of free
 * chunk indices, a view per chunk made once. acquire and release are O(1) and allocate nothing.
 */
export function chunkPool(chunks: number, chunkBytes = STORM_CHUNK_BYTES): ChunkPool {
  const slab = new Uint8Array(chunks * chunkBytes);
  const views = Array.from({ length: chunks }, (_, i) => slab.subarray(i * chunkBytes, (i + 1) * chunkBytes));
  const free = Array.from({ length: chunks }, (_, i) => chunks - 1 - i);
  return {
    acquire: () => free.pop() ?? null,
    bytes: (handle) => views[handle]!,
    release: (handle) => void free.push(handle),
  };
}

const stormPayload = new TextEncoder().encode(
  JSON.stringify({ from: 'alice', to: '#lobby', text: 'a chat storm: everybody talks at once, '.repeat(8) }),
);

/**
 * The stage-05 server's read path in a chat storm — what `npm run bench:pool` measures. Every
 * message is "read" into a 4 KiB buffer, checked, and held while the next `inFlight` messages are
 * read (routing takes a while), then let go: dropped for the collector, or, given a `pool` with at
 * least `inFlight` chunks (stage 05's BufferPool, or `chunkPool` below), released back to it.
 * Returns a checksum. `measureGc(() => storm())` gives the GC share without a pool,
 * `measureGc(() => storm({ pool: chunkPool(256) }))` with one.
 */
export function storm(options: { messages?: number; inFlight?: number; pool?: ChunkPool } = {}): number {
  const { messages = 400_000, inFlight = 256, pool } = options;
  const buffers: Uint8Array[] = new Array(inFlight);
  const handles: number[] = new Array(inFlight);
  let checksum = 0;
  for (let i = 0; i < messages; i++) {
    let buffer: Uint8Array;
    const slot = i % inFlight;
    if (pool) {
      if (buffers[slot]) pool.release(handles[slot]!); // the oldest message has been routed
      const handle = pool.acquire();
      if (handle === null) throw new Error(`storm: the pool ran dry with ${inFlight} messages in flight; give it at least ${inFlight} chunks`);
      handles[slot] = handle;
      buffer = pool.bytes(handle);
    } else {
      buffer = new Uint8Array(STORM_CHUNK_BYTES); // the old buffers[slot] is garbage from here on
    }
    buffer.set(stormPayload, 4); // the "read": bytes land after a 4-byte length header
    buffer[0] = stormPayload.length >>> 24;
    buffer[3] = stormPayload.length & 0xff;
    checksum = (checksum + buffer[4 + (i % stormPayload.length)]!) | 0;
    buffers[slot] = buffer;
  }
  if (pool) for (let s = 0; s < inFlight; s++) if (buffers[s]) pool.release(handles[s]!);
  return checksum;
}
