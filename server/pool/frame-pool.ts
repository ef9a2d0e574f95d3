// Outbound frames are encoded once, into slices of large pooled slabs, and the same bytes are
// written to every recipient. A slab goes back to the free list when every frame cut from it
// has been written (or dropped): each frame holds references, released by the write callbacks.
import { HEADER_BYTES, MAX_FRAME_LENGTH, FrameError } from '../protocol/frame.ts';

export const SLAB_BYTES = 256 * 1024;

class Slab {
  used = 0;
  refs = 0;
  retired = false;
  constructor(readonly buf: Buffer) {}
}

/** One encoded frame. Take a reference per pending write; release it when the write is done. */
export class PooledFrame {
  private refs = 1; // the encoder's own hold, dropped by release() after fan-out
  constructor(
    private readonly pool: FramePool,
    private readonly slab: Slab | null,
    readonly bytes: Buffer,
  ) {
    if (slab) slab.refs++;
  }

  get length(): number {
    return this.bytes.length;
  }

  retain(): this {
    this.refs++;
    return this;
  }

  release(): void {
    if (--this.refs !== 0) return;
    this.pool.frameGone(this.bytes.length);
    if (this.slab) this.pool.unref(this.slab);
  }

  /** A copy of the bytes that pins no slab: for a frame that will wait in a slow reader's queue. */
  copy(): Buffer {
    return Buffer.from(this.bytes);
  }
}

export interface PoolStats {
  /** Frames encoded since the start. */
  frames: number;
  slabsAllocated: number;
  slabsReused: number;
  oversize: number;
  /** Frames encoded and not yet released by every holder: 0 when nothing is queued or being written. */
  liveFrames: number;
  /** Bytes of those frames. */
  liveBytes: number;
  /** Retired slabs still held by a frame (each pins SLAB_BYTES): 0 when nothing is waiting. */
  slabsPinned: number;
}

export class FramePool {
  private current: Slab;
  private readonly free: Slab[] = [];
  private readonly counters: PoolStats = {
    frames: 0,
    slabsAllocated: 0,
    slabsReused: 0,
    oversize: 0,
    liveFrames: 0,
    liveBytes: 0,
    slabsPinned: 0,
  };

  /** A snapshot of the counters (the reactor reports it to the primary on request). */
  get stats(): Readonly<PoolStats> {
    return { ...this.counters };
  }

  constructor(private readonly maxFreeSlabs = 32) {
    this.current = this.newSlab();
  }

  /** Encodes `type` + JSON(body) once. Throws FrameError if the frame exceeds the protocol limit. */
  encode(type: number, body: object): PooledFrame {
    const json = JSON.stringify(body);
    const worst = HEADER_BYTES + 1 + json.length * 3; // UTF-8 needs at most 3 bytes per UTF-16 unit
    if (worst > SLAB_BYTES) return this.encodeOversize(type, json);
    if (SLAB_BYTES - this.current.used < worst) this.rotate();
    const slab = this.current;
    const start = slab.used;
    const written = slab.buf.write(json, start + HEADER_BYTES + 1, 'utf8');
    checkLength(1 + written);
    slab.buf.writeUInt32BE(1 + written, start);
    slab.buf[start + HEADER_BYTES] = type;
    slab.used = start + HEADER_BYTES + 1 + written;
    return this.born(new PooledFrame(this, slab, slab.buf.subarray(start, slab.used)));
  }

  /**
   * One contiguous copy of several frames (a connection's batch), so that the batch goes out in
   * one socket write instead of one stream write per frame. The caller keeps its own references
   * to `frames`; the copy is a frame of its own (counted live, not as encoded).
   */
  join(frames: readonly PooledFrame[], bytes: number): PooledFrame {
    if (bytes > SLAB_BYTES) return this.live(new PooledFrame(this, null, Buffer.concat(frames.map((f) => f.bytes), bytes)));
    if (SLAB_BYTES - this.current.used < bytes) this.rotate();
    const slab = this.current;
    const start = slab.used;
    let at = start;
    for (const f of frames) {
      slab.buf.set(f.bytes, at);
      at += f.bytes.length;
    }
    slab.used = at;
    return this.live(new PooledFrame(this, slab, slab.buf.subarray(start, at)));
  }

  /** Bytes a body would take on the wire, for callers that must stay under the frame limit. */
  static frameLength(body: object): number {
    return HEADER_BYTES + 1 + Buffer.byteLength(JSON.stringify(body));
  }

  unref(slab: Slab): void {
    if (--slab.refs === 0 && slab.retired) {
      this.counters.slabsPinned--;
      this.recycle(slab);
    }
  }

  frameGone(bytes: number): void {
    this.counters.liveFrames--;
    this.counters.liveBytes -= bytes;
  }

  private born(frame: PooledFrame): PooledFrame {
    this.counters.frames++;
    return this.live(frame);
  }

  private live(frame: PooledFrame): PooledFrame {
    this.counters.liveFrames++;
    this.counters.liveBytes += frame.length;
    return frame;
  }

  private encodeOversize(type: number, json: string): PooledFrame {
    this.counters.oversize++;
    const body = Buffer.from(json, 'utf8');
    checkLength(1 + body.length);
    const out = Buffer.allocUnsafe(HEADER_BYTES + 1 + body.length);
    out.writeUInt32BE(1 + body.length, 0);
    out[HEADER_BYTES] = type;
    body.copy(out, HEADER_BYTES + 1);
    return this.born(new PooledFrame(this, null, out));
  }

  private rotate(): void {
    const old = this.current;
    old.retired = true;
    this.current = this.free.pop() ?? this.newSlab();
    if (this.current !== undefined && this.current.used === 0 && this.current.retired) {
      this.current.retired = false;
      this.counters.slabsReused++;
    }
    if (old.refs === 0) this.recycle(old);
    else this.counters.slabsPinned++;
  }

  private recycle(slab: Slab): void {
    if (this.free.length >= this.maxFreeSlabs) return; // let the GC have it
    slab.used = 0;
    this.free.push(slab); // stays `retired` until rotate() makes it current again
  }

  private newSlab(): Slab {
    this.counters.slabsAllocated++;
    return new Slab(Buffer.allocUnsafeSlow(SLAB_BYTES));
  }
}

function checkLength(length: number): void {
  if (length > MAX_FRAME_LENGTH) {
    throw new FrameError('too_long', `frame of ${length} bytes exceeds ${MAX_FRAME_LENGTH}`);
  }
}
