// Stage 00 — packets from a byte stream.
// TCP delivers bytes, not messages: one read() may hold half a frame, three frames, or the end of
// one and the start of the next. The wizz frame puts its length first so the reader knows where
// each message ends: 4-byte big-endian length N (1 ≤ N ≤ 65,536), then N bytes = 1 type byte +
// UTF-8 JSON that must be an object.
//
// Your job: the three TODOs below. The README walks through them; `npm test -- 00` grades them.

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

/** One frame as bytes. Throws FrameError('too_long') if the body does not fit in one frame. */
export function encodeFrame(type: number, body: Record<string, unknown>): Uint8Array {
  // TODO 1: JSON.stringify the body and UTF-8 encode it (TextEncoder). The length N counts the
  // type byte too. Write N as a 4-byte *big-endian* unsigned integer (a DataView's setUint32 with
  // littleEndian = false), then the type byte, then the JSON bytes.
  throw new Error(`TODO: encodeFrame(${type}, ${Object.keys(body).length} fields)`);
}

/** Type byte + JSON object → Frame. Throws FrameError('bad_json' | 'not_object'). */
export function parsePayload(payload: Uint8Array): Frame {
  // TODO 2: decode the bytes after the type byte as UTF-8 (a TextDecoder with fatal: true rejects
  // invalid UTF-8), JSON.parse them, and insist on a plain object: not null, not an array, not 7.
  throw new Error(`TODO: parsePayload(${payload.length} bytes)`);
}

/**
 * Reassembles frames from chunks cut anywhere. push() returns every frame the chunk completes
 * and keeps the unfinished tail for the next chunk. It throws FrameError as soon as a header
 * announces a length out of bounds — before waiting for a body that may never come — or when a
 * complete body is not a JSON object. After that the decoder stays failed (every push throws).
 */
export class FrameDecoder {
  // TODO 3: keep the bytes received so far that do not make a whole frame yet, and the error once
  // one happened. Copy what you keep: the caller may reuse the chunk's memory for its next read.

  /** Bytes received that are not yet part of a complete frame. */
  get pending(): number {
    return 0; // TODO 3
  }

  push(chunk: Uint8Array): Frame[] {
    // TODO 3: append the chunk, then take frames off the front while a whole one is there.
    throw new Error(`TODO: FrameDecoder.push(${chunk.length} bytes)`);
  }
}
