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
 */
export class FrameDecoder {
  private buffer: Uint8Array = new Uint8Array(0);
  private failed: FrameError | null = null;

  /** Bytes received but not yet part of a complete frame. */
  get pending(): number {
    return this.buffer.length;
  }

  push(chunk: Uint8Array): Frame[] {
    if (this.failed) throw this.failed;
    this.buffer = this.buffer.length === 0 ? chunk.slice() : concat(this.buffer, chunk);
    const frames: Frame[] = [];
    let offset = 0;
    try {
      while (this.buffer.length - offset >= HEADER_BYTES) {
        const length = readLength(this.buffer, offset);
        if (this.buffer.length - offset - HEADER_BYTES < length) break;
        const start = offset + HEADER_BYTES;
        frames.push(parsePayload(this.buffer.subarray(start, start + length)));
        offset = start + length;
      }
    } catch (err) {
      this.failed = err as FrameError;
      throw err;
    }
    this.buffer = this.buffer.subarray(offset);
    return frames;
  }
}

function readLength(buf: Uint8Array, offset: number): number {
  const length = new DataView(buf.buffer, buf.byteOffset + offset, HEADER_BYTES).getUint32(0, false);
  if (length === 0) throw new FrameError('zero_length', 'frame length 0: a frame holds at least its type byte');
  if (length > MAX_FRAME_LENGTH) {
    throw new FrameError('too_long', `frame length ${length} exceeds the limit of ${MAX_FRAME_LENGTH}`);
  }
  return length;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
