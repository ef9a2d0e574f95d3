// A FIFO of bytes kept as a list of chunks: an idle socket costs a few empty fields, not a buffer,
// which is what lets one process hold 100,000 of them.

export class ByteQueue {
  private chunks: Uint8Array[] = [];
  private headOffset = 0;
  length = 0;

  /** Appends a copy of `bytes` (the caller may reuse its buffer, as after write(2)). */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes.slice());
    this.length += bytes.length;
  }

  /** Moves up to `out.length` bytes into `out`; returns how many. */
  take(out: Uint8Array): number {
    return this.drain(out.length, (chunk, at) => out.set(chunk, at));
  }

  /** Moves up to `max` bytes to the end of `other`; returns how many. */
  moveTo(other: ByteQueue, max: number): number {
    return this.drain(max, (chunk) => other.push(chunk));
  }

  clear(): void {
    this.chunks = [];
    this.headOffset = 0;
    this.length = 0;
  }

  private drain(max: number, sink: (chunk: Uint8Array, at: number) => void): number {
    let moved = 0;
    while (moved < max && this.chunks.length > 0) {
      const head = this.chunks[0]!;
      const n = Math.min(head.length - this.headOffset, max - moved);
      sink(head.subarray(this.headOffset, this.headOffset + n), moved);
      moved += n;
      this.headOffset += n;
      if (this.headOffset === head.length) {
        this.chunks.shift();
        this.headOffset = 0;
      }
    }
    this.length -= moved;
    return moved;
  }
}
