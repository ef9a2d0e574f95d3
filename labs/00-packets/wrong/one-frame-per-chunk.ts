// mistake: decodes at most one frame per push, as if every read() held exactly one message
// replaces: frames.ts
// Stage 00 — packets from a byte stream.
// TCP delivers bytes, not messages: one read() may hold half a frame, three frames, or the end of
// one and the start of the next. The wizz frame puts its length first so the reader knows where
// each message ends: 4-byte big-endian length N (1 ≤ N ≤ 65,536), then N bytes = 1 type byte +
// UTF-8 JSON that must be an object.

export const HEADER_BYTES = 4;
export const MAX_FRAME_LENGTH = 65_536;

export interface Frame {
  type: number;
  body: Record<string, unknown>;
}

export type FrameErrorReason = 'zero_length' | 'too_long' | 'bad_json' | 'not_object';

/** The stream broke the framing rules; `reason` says which. The connection cannot recover. */
export class FrameError extends Error {
  constructor(
    readonly reason: FrameErrorReason,
    message: string,
  ) {
    super(message);
    this.name = 'FrameError';
  }
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** One frame as bytes. Throws FrameError('too_long') if the body does not fit in one frame. */
export function encodeFrame(type: number, body: Record<string, unknown>): Uint8Array {
  const json = utf8.encode(JSON.stringify(body));
  const length = 1 + json.length; // the type byte counts
  if (length > MAX_FRAME_LENGTH) {
    throw new FrameError('too_long', `a ${length}-byte frame exceeds the ${MAX_FRAME_LENGTH}-byte limit`);
  }
  const frame = new Uint8Array(HEADER_BYTES + length);
  new DataView(frame.buffer).setUint32(0, length, false); // false = big-endian, "network order"
  frame[HEADER_BYTES] = type;
  frame.set(json, HEADER_BYTES + 1);
  return frame;
}

/**
 * Reassembles frames from chunks cut anywhere. push() returns every frame the chunk completes
 * and keeps the unfinished tail for the next chunk. It throws FrameError as soon as a header
 * announces a length out of bounds — before waiting for a body that may never come — or when a
 * complete body is not a JSON object. After that the decoder stays failed.
 */
export class FrameDecoder {
  /** Received bytes not yet consumed live in buffer[start, end); the buffer grows by doubling. */
  private buffer = new Uint8Array(1024);
  private start = 0;
  private end = 0;
  private failure: FrameError | null = null;

  /** Bytes received that are not yet part of a complete frame. */
  get pending(): number {
    return this.end - this.start;
  }

  push(chunk: Uint8Array): Frame[] {
    if (this.failure) throw this.failure;
    this.append(chunk);
    const frames: Frame[] = [];
    try {
      if (this.pending >= HEADER_BYTES) {
        const length = checkedLength(this.buffer, this.start); // validate before waiting for the body
        if (this.pending < HEADER_BYTES + length) return frames; // the rest arrives in a later chunk
        const payload = this.buffer.subarray(this.start + HEADER_BYTES, this.start + HEADER_BYTES + length);
        frames.push(parsePayload(payload));
        this.start += HEADER_BYTES + length;
      }
    } catch (err) {
      this.failure = err as FrameError;
      throw err;
    }
    return frames;
  }

  /** Copies the chunk in (the caller may reuse its buffer). */
  private append(chunk: Uint8Array): void {
    if (this.end + chunk.length > this.buffer.length) this.makeRoom(chunk.length);
    this.buffer.set(chunk, this.end);
    this.end += chunk.length;
  }

  /** Drops the consumed front; grows by doubling, which keeps copying linear even for 1-byte chunks. */
  private makeRoom(extra: number): void {
    const kept = this.pending;
    if (kept + extra <= this.buffer.length / 2) {
      this.buffer.copyWithin(0, this.start, this.end);
    } else {
      const bigger = new Uint8Array(Math.max(kept + extra, this.buffer.length * 2));
      bigger.set(this.buffer.subarray(this.start, this.end));
      this.buffer = bigger;
    }
    this.start = 0;
    this.end = kept;
  }
}

/** The length in the header at `offset`, or FrameError if no valid frame can have it. */
function checkedLength(buf: Uint8Array, offset: number): number {
  const length = new DataView(buf.buffer, buf.byteOffset + offset, HEADER_BYTES).getUint32(0, false);
  if (length === 0) throw new FrameError('zero_length', 'a frame of length 0 has no room for its type byte');
  if (length > MAX_FRAME_LENGTH) {
    throw new FrameError('too_long', `header announces ${length} bytes; the limit is ${MAX_FRAME_LENGTH}`);
  }
  return length;
}

/** Type byte + JSON object → Frame. Throws FrameError('bad_json' | 'not_object'). */
export function parsePayload(payload: Uint8Array): Frame {
  let body: unknown;
  try {
    body = JSON.parse(strictUtf8.decode(payload.subarray(1)));
  } catch {
    throw new FrameError('bad_json', 'the frame body is not UTF-8 JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new FrameError('not_object', 'the frame body must be a JSON object');
  }
  return { type: payload[0]!, body: body as Record<string, unknown> };
}
