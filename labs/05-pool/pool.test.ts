// Stage 05 graders: the buffer pool. Correctness against a model first, then misuse detection,
// then cost — counted on the free list, never timed.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BufferPool, DoubleReleaseError, POISON, UseAfterReleaseError, type Handle } from '#stage/05-pool/pool.ts';

type Op = { kind: 'acquire' } | { kind: 'release'; pick: number } | { kind: 'write'; pick: number };
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ kind: 'acquire' as const }) },
  { weight: 2, arbitrary: fc.nat().map((pick) => ({ kind: 'release' as const, pick })) },
  { weight: 1, arbitrary: fc.nat().map((pick) => ({ kind: 'write' as const, pick })) },
);

/** Writes a stamp at both ends of a chunk, so two owners of one chunk are caught. */
function stamp(bytes: Uint8Array, value: number): void {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(0, value, true);
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(bytes.length - 4, value, true);
}
function readStamp(bytes: Uint8Array): [number, number] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return [view.getUint32(0, true), view.getUint32(bytes.length - 4, true)];
}

function runModel(pool: BufferPool, ops: Op[], maxChunks: number, chunksPerSlab: number, grows: boolean) {
  const live: Array<{ handle: Handle; stamp: number }> = [];
  let nextStamp = 1;
  let highWater = 0;
  let misses = 0;
  for (const [step, o] of ops.entries()) {
    const where = `step ${step} (${o.kind}) with ${live.length} chunks in use`;
    if (o.kind === 'acquire') {
      const capacityNow = pool.stats.capacity;
      const handle = pool.acquire();
      if (live.length === capacityNow) misses++;
      if (live.length < maxChunks) {
        expect(handle, `${where}: acquire returned null although ${maxChunks - live.length} chunk(s) could still be handed out`).not.toBeNull();
        const bytes = pool.bytes(handle!);
        expect(bytes.length, `${where}: chunk size`).toBe(pool.chunkSize);
        live.push({ handle: handle!, stamp: nextStamp });
        stamp(bytes, nextStamp++);
      } else {
        expect(handle, `${where}: the pool is at its cap of ${maxChunks} chunks, acquire must return null (never grow past the cap, never hand out a chunk in use)`).toBeNull();
      }
    } else if (live.length > 0) {
      const k = o.pick % live.length;
      if (o.kind === 'release') {
        pool.release(live[k]!.handle);
        live.splice(k, 1);
      } else {
        live[k]!.stamp = nextStamp;
        stamp(pool.bytes(live[k]!.handle), nextStamp++);
      }
    }
    highWater = Math.max(highWater, live.length);
    // Every chunk in use still holds exactly what its owner wrote: no chunk has two owners.
    for (const { handle, stamp: s } of live) {
      expect(readStamp(pool.bytes(handle)), `${where}: a chunk in use was overwritten — two owners share one chunk (hint 2)`).toEqual([s, s]);
    }
    const stats = pool.stats;
    expect(stats.inUse, `${where}: stats.inUse`).toBe(live.length);
    expect(stats.highWater, `${where}: stats.highWater`).toBe(highWater);
    expect(stats.misses, `${where}: stats.misses (acquires that found the free list empty)`).toBe(misses);
    if (grows) {
      expect(stats.capacity % chunksPerSlab, `${where}: the pool grows by whole slabs`).toBe(0);
      expect(stats.capacity, `${where}: capacity never exceeds the cap`).toBeLessThanOrEqual(maxChunks);
    }
  }
}

describe('05-pool: acquire/release against a model (fast-check)', () => {
  it("policy 'null': a fixed pool hands out each chunk to one owner at a time and says null when empty", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(op, { maxLength: 120 }), (chunks, ops) => {
        const pool = new BufferPool({ chunkSize: 64, chunksPerSlab: chunks, onExhausted: 'null' });
        runModel(pool, ops, chunks, chunks, false);
      }),
      { numRuns: 200, seed: 5 },
    );
  });

  it("policy 'grow': the pool adds whole slabs when empty, up to its cap, then says null", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 120 }), (perSlab, maxSlabs, ops) => {
        const pool = new BufferPool({ chunkSize: 32, chunksPerSlab: perSlab, onExhausted: 'grow', maxSlabs });
        runModel(pool, ops, perSlab * maxSlabs, perSlab, true);
      }),
      { numRuns: 200, seed: 5 },
    );
  });
});

describe('05-pool: misuse is caught', () => {
  it('a double release throws DoubleReleaseError and does not corrupt the free list', () => {
    const pool = new BufferPool({ chunkSize: 16, chunksPerSlab: 4 });
    const a = pool.acquire()!;
    pool.release(a);
    expect(() => pool.release(a), 'releasing the same handle twice').toThrow(DoubleReleaseError);
    // The chunk is handed out again; the stale handle must not free the new owner's chunk.
    const b = pool.acquire()!;
    expect(() => pool.release(a), 'a stale handle to a chunk that now has a new owner').toThrow(DoubleReleaseError);
    expect(pool.stats.inUse, 'the new owner still holds its chunk').toBe(1);
    const handles = [pool.acquire(), pool.acquire(), pool.acquire()];
    expect(handles.every((h) => h !== null), 'three more chunks of four').toBe(true);
    expect(pool.acquire(), 'the free list holds no duplicate: a fifth acquire fails').toBeNull();
    pool.release(b);
  });

  it('debug mode: a released handle cannot be used, and a write after release is caught on the next acquire', () => {
    const pool = new BufferPool({ chunkSize: 32, chunksPerSlab: 2, debug: true });
    const a = pool.acquire()!;
    const kept = pool.bytes(a); // a reference kept past its release: the classic bug
    pool.release(a);
    expect(Array.from(kept), 'a released chunk is filled with the poison byte').toEqual(new Array(32).fill(POISON));
    expect(() => pool.bytes(a), 'bytes() of a released handle').toThrow(UseAfterReleaseError);
    kept[5] = 1; // use after release
    // Handing that chunk out again must notice the write (whichever acquire reaches it).
    expect(() => {
      for (let i = 0; i < 2; i++) pool.acquire();
    }, 'acquiring the chunk that was written after release').toThrow(UseAfterReleaseError);
  });

  it('stats show a leak: chunks never released stay in use', () => {
    const pool = new BufferPool({ chunkSize: 16, chunksPerSlab: 16 });
    const handles = Array.from({ length: 10 }, () => pool.acquire()!);
    for (const h of handles.slice(0, 7)) pool.release(h);
    expect(pool.stats).toMatchObject({ inUse: 3, highWater: 10, misses: 0 });
  });
});

describe('05-pool: cost (counted, not timed)', () => {
  it('each acquire is one pop and each release one push of the free list, whatever the pool size', () => {
    for (const chunks of [8, 4096, 65_536]) {
      const pool = new BufferPool({ chunkSize: 16, chunksPerSlab: chunks, onExhausted: 'null' });
      const free = pool.free;
      const pops = free.pops;
      const pushes = free.pushes;
      const held: Handle[] = [];
      let acquires = 0;
      let releases = 0;
      for (let i = 0; i < 20_000; i++) {
        if (held.length < Math.min(chunks, 6) && i % 3 !== 2) {
          held.push(pool.acquire()!);
          acquires++;
        } else if (held.length > 0) {
          pool.release(held.shift()!);
          releases++;
        }
      }
      expect(free.pops - pops, `${chunks} chunks: free-list pops for ${acquires} acquires (O(1): exactly one each, hint 1)`).toBe(acquires);
      expect(free.pushes - pushes, `${chunks} chunks: free-list pushes for ${releases} releases (exactly one each)`).toBe(releases);
      expect(pool.free, 'the free list is made once and never replaced').toBe(free);
    }
  });

  it('bytes() hands out the chunk\'s one view, made with its slab — no allocation per call', () => {
    const pool = new BufferPool({ chunkSize: 64, chunksPerSlab: 4 });
    const h = pool.acquire()!;
    expect(pool.bytes(h), 'two calls for one handle return the same Uint8Array object').toBe(pool.bytes(h));
    pool.release(h);
    const again = pool.acquire()!;
    expect(pool.bytes(again).buffer, 'chunks are views into the slab, not separate buffers').toBe(pool.bytes(pool.acquire()!).buffer);
  });
});
