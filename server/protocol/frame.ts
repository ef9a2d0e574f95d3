// The wizz frame: 4-byte unsigned big-endian length N (1 ≤ N ≤ 65,536), then N bytes:
// one type byte and N−1 bytes of UTF-8 JSON that must be an object.
// This file is the single source of truth for the framing; labs after stage 00 import it.

export const HEADER_BYTES = 4;
export const MAX_FRAME_LENGTH = 65_536;

export interface Frame {
  type: number;
  body: Record<string, unknown>;
}

export type FrameErrorReason = 'zero_length' | 'too_long' | 'bad_json' | 'not_object';

export class FrameError extends Error {
  constructor(readonly reason: FrameErrorReason, message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes one frame. Throws FrameError if the body makes the frame longer than the limit. */
export function encodeFrame(type: number, body: Record<string, unknown>): Uint8Array {
  const json = encoder.encode(JSON.stringify(body));
  const length = 1 + json.length;
  if (length > MAX_FRAME_LENGTH) {
    throw new FrameError('too_long', `frame of ${length} bytes exceeds ${MAX_FRAME_LENGTH}`);
  }
  const out = new Uint8Array(HEADER_BYTES + length);
  new DataView(out.buffer).setUint32(0, length, false);
  out[HEADER_BYTES] = type;
  out.set(json, HEADER_BYTES + 1);
  return out;
}

/** Parses the payload of one frame (type byte + JSON). Throws FrameError when it is not a JSON object. */
export function parsePayload(payload: Uint8Array): Frame {
  const type = payload[0]!;
  let body: unknown;
  try {
    body = JSON.parse(decoder.decode(payload.subarray(1)));
  } catch {
    throw new FrameError('bad_json', 'frame body is not valid UTF-8 JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new FrameError('not_object', 'frame body must be a JSON object');
  }
  return { type, body: body as Record<string, unknown> };
}

/**
 * Reassembles frames from a byte stream cut at arbitrary points.
 * push() returns every frame completed by the chunk; it throws FrameError as soon as a header
 * announces a bad length (before any body byte arrives) or a body is not a JSON object.
 * After an error the decoder is poisoned: the stream has lost its framing and must be closed.
 *
 * Frames that lie whole inside one chunk are parsed in place (no copy). Only a frame cut by a
 * chunk boundary is copied, once, into a buffer of exactly its size: the caller may reuse its
 * chunk after push() returns.
 */
export class FrameDecoder {
  private readonly header = new Uint8Array(HEADER_BYTES);
  private headerFilled = 0;
  private body: Uint8Array | null = null;
  private bodyFilled = 0;
  private failed: FrameError | null = null;
  /** Bytes of a chunk left undecoded because the consumer asked to stop (a copy: see decode()). */
  private rest: Uint8Array | null = null;

  /** Bytes received but not yet part of a complete frame (including bytes held after a stop). */
  get pending(): number {
    return (this.body ? HEADER_BYTES + this.bodyFilled : this.headerFilled) + (this.rest?.length ?? 0);
  }

  /** True when decode() stopped early and resume() has bytes to go on with. */
  get stopped(): boolean {
    return this.rest !== null;
  }

  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    this.decode(chunk, (frame) => {
      frames.push(frame);
    });
    return frames;
  }

  /**
   * Like push(), but hands each frame to `onFrame` as soon as it is complete, so the frames
   * before a bad one in the same chunk are not lost when the bad one throws.
   *
   * When `onFrame` returns false the decoder stops right after that frame: the rest of the chunk
   * is copied (at most one chunk) and decoded by resume(), so a consumer can stop parsing at its
   * limit instead of queueing everything a large read brought. A chunk pushed while stopped is
   * appended to the held bytes.
   */
  decode(chunk: Uint8Array, onFrame: (frame: Frame) => unknown): void {
    if (this.failed) throw this.failed;
    if (this.rest) {
      const joined = new Uint8Array(this.rest.length + chunk.length);
      joined.set(this.rest);
      joined.set(chunk, this.rest.length);
      this.rest = joined;
      return;
    }
    this.run(chunk, onFrame);
  }

  /** Goes on decoding the bytes held by a stop; returns whether it ran to the end of them. */
  resume(onFrame: (frame: Frame) => unknown): boolean {
    if (this.failed) throw this.failed;
    const rest = this.rest;
    if (!rest) return true;
    this.rest = null;
    this.run(rest, onFrame, true);
    return this.rest === null;
  }

  /** `owned`: the chunk is our own copy, so what is left of it can be kept without copying again. */
  private run(chunk: Uint8Array, onFrame: (frame: Frame) => unknown, owned = false): void {
    try {
      const stoppedAt = this.consume(chunk, onFrame);
      if (stoppedAt < chunk.length) this.rest = owned ? chunk.subarray(stoppedAt) : new Uint8Array(chunk.subarray(stoppedAt));
    } catch (err) {
      if (err instanceof FrameError) this.failed = err;
      throw err;
    }
  }

  /** Decodes from the start of `chunk`; returns the offset where it stopped (chunk.length at the end). */
  private consume(chunk: Uint8Array, onFrame: (frame: Frame) => unknown): number {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.body) {
        // Finish a frame that an earlier chunk started.
        const n = Math.min(chunk.length - offset, this.body.length - this.bodyFilled);
        this.body.set(chunk.subarray(offset, offset + n), this.bodyFilled);
        this.bodyFilled += n;
        offset += n;
        if (this.bodyFilled === this.body.length) {
          const body = this.body;
          this.body = null;
          this.bodyFilled = 0;
          if (onFrame(parsePayload(body)) === false) return offset;
        }
        continue;
      }
      if (this.headerFilled === 0 && chunk.length - offset >= HEADER_BYTES) {
        const length = readLength(chunk, offset);
        const start = offset + HEADER_BYTES;
        if (chunk.length - start >= length) {
          offset = start + length;
          if (onFrame(parsePayload(chunk.subarray(start, offset))) === false) return offset;
        } else {
          this.startBody(length);
          offset = start;
        }
        continue;
      }
      // A header cut by the chunk boundary: collect its bytes one chunk at a time.
      const n = Math.min(chunk.length - offset, HEADER_BYTES - this.headerFilled);
      this.header.set(chunk.subarray(offset, offset + n), this.headerFilled);
      this.headerFilled += n;
      offset += n;
      if (this.headerFilled === HEADER_BYTES) {
        this.headerFilled = 0;
        this.startBody(readLength(this.header, 0));
      }
    }
    return offset;
  }

  private startBody(length: number): void {
    this.body = new Uint8Array(length);
    this.bodyFilled = 0;
  }
}

function readLength(buf: Uint8Array, offset: number): number {
  const length = ((buf[offset]! << 24) >>> 0) + (buf[offset + 1]! << 16) + (buf[offset + 2]! << 8) + buf[offset + 3]!;
  if (length === 0) throw new FrameError('zero_length', 'frame length 0: a frame holds at least its type byte');
  if (length > MAX_FRAME_LENGTH) {
    throw new FrameError('too_long', `frame length ${length} exceeds the limit of ${MAX_FRAME_LENGTH}`);
  }
  return length;
}
