// Stage 05 graders: the buffer pool. Correctness against a model first, then misuse detection,
// then cost — counted on the free list, never timed.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BufferPool, DoubleReleaseError, GENERATION_LIMIT, INDEX_LIMIT, POISON, UseAfterReleaseError, type Handle } from '#stage/05-pool/pool.ts';

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
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(op, { maxLength: 120 }), fc.boolean(), (chunks, ops, debug) => {
        const pool = new BufferPool({ chunkSize: 64, chunksPerSlab: chunks, onExhausted: 'null', debug });
        runModel(pool, ops, chunks, chunks, false);
      }),
      { numRuns: 200, seed: 5 },
    );
  });

  it("policy 'grow': the pool adds whole slabs when empty, up to its cap, then says null", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.array(op, { maxLength: 120 }), fc.boolean(), (perSlab, maxSlabs, ops, debug) => {
        const pool = new BufferPool({ chunkSize: 32, chunksPerSlab: perSlab, onExhausted: 'grow', maxSlabs, debug });
        runModel(pool, ops, perSlab * maxSlabs, perSlab, true);
      }),
      { numRuns: 200, seed: 5 },
    );
  });
});

/** Every way a pool can be configured: policy, cap and debug mode. */
const config = fc.record({
  chunksPerSlab: fc.integer({ min: 1, max: 6 }),
  onExhausted: fc.constantFrom<'null' | 'grow'>('null', 'grow'),
  maxSlabs: fc.integer({ min: 1, max: 3 }),
  debug: fc.boolean(),
});
type Config = { chunksPerSlab: number; onExhausted: 'null' | 'grow'; maxSlabs: number; debug: boolean };
const cap = (c: Config) => c.chunksPerSlab * (c.onExhausted === 'grow' ? c.maxSlabs : 1);
const describeConfig = (c: Config) =>
  `pool of ${c.chunksPerSlab}-chunk slabs, onExhausted '${c.onExhausted}'${c.onExhausted === 'grow' ? ` up to ${c.maxSlabs} slabs` : ''}${c.debug ? ', debug' : ''}`;

describe('05-pool: exhaustion and recovery (fast-check)', () => {
  it('an exhausted pool says null, and every chunk given back can be acquired again — cycle after cycle', () => {
    fc.assert(
      fc.property(config, fc.array(fc.array(fc.boolean(), { maxLength: 18 }), { minLength: 1, maxLength: 5 }), (c, cycles) => {
        const pool = new BufferPool({ chunkSize: 16, ...c });
        const total = cap(c);
        const held: Handle[] = [];
        for (const [round, giveBack] of cycles.entries()) {
          const where = `${describeConfig(c)}, round ${round + 1}`;
          // Drain it: exactly `total - held` more acquires succeed, then null.
          const free = total - held.length;
          for (let i = 0; i < free; i++) {
            const h = pool.acquire();
            expect(h, `${where}: acquire #${i + 1} of the ${free} chunks still free returned null (hint 2)`).not.toBeNull();
            held.push(h!);
          }
          expect(new Set(held).size, `${where}: a handle was handed out twice while in use`).toBe(held.length);
          const missesBefore = pool.stats.misses;
          expect(pool.acquire(), `${where}: all ${total} chunks are in use, so acquire must return null — not grow past the cap, not block`).toBeNull();
          expect(pool.stats, `${where}: stats once exhausted (the null acquire is one more miss)`).toMatchObject({
            inUse: total,
            highWater: total,
            misses: missesBefore + 1,
            capacity: total,
          });
          // Recover: give some back; exactly that many can be had again.
          const back = held.filter((_, i) => giveBack[i % Math.max(1, giveBack.length)] ?? false);
          for (const h of back) pool.release(h);
          held.splice(0, held.length, ...held.filter((h) => !back.includes(h)));
          expect(pool.stats.inUse, `${where}: inUse after ${back.length} releases`).toBe(held.length);
          for (let i = 0; i < back.length; i++) {
            const h = pool.acquire();
            expect(h, `${where}: ${back.length} chunk(s) came back, but acquire #${i + 1} after that returned null — released chunks must be reusable (hint 3)`).not.toBeNull();
            held.push(h!);
          }
          expect(pool.acquire(), `${where}: after reacquiring the ${back.length} released chunk(s) the pool is exhausted again`).toBeNull();
          for (const h of back) expect(() => pool.release(h), `${where}: the handle from before a chunk's release is stale once it has a new owner`).toThrow(DoubleReleaseError);
          // Bytes of every held chunk are distinct memory.
          held.forEach((h, i) => pool.bytes(h).fill(i & 0xff));
          held.forEach((h, i) => expect(pool.bytes(h)[0], `${where}: two held handles share one chunk`).toBe(i & 0xff));
        }
        for (const h of held) pool.release(h);
        expect(pool.stats.inUse, `${describeConfig(c)}: every chunk released`).toBe(0);
      }),
      { numRuns: 150, seed: 11 },
    );
  });
});

describe('05-pool: misuse is caught', () => {
  it('a bad release — twice, stale, never acquired, not a handle — throws DoubleReleaseError in every mode and changes nothing', () => {
    const bad = fc.oneof(
      fc.constant('twice' as const),
      fc.constant('stale' as const),
      fc.constant('never acquired' as const),
      fc.constantFrom(-1, 0.5, Number.NaN, 2 ** 53, INDEX_LIMIT * 7 + 3),
    );
    fc.assert(
      fc.property(config, fc.array(op, { maxLength: 30 }), bad, (c, ops, kind) => {
        const pool = new BufferPool({ chunkSize: 16, ...c });
        const live: Handle[] = [];
        const released: Handle[] = [];
        for (const o of ops) {
          if (o.kind === 'acquire') {
            const h = pool.acquire();
            if (h !== null) live.push(h);
          } else if (o.kind === 'release' && live.length > 0) {
            const [h] = live.splice(o.pick % live.length, 1);
            pool.release(h!);
            released.push(h!);
          }
        }
        let handle: number;
        let what: string;
        if (kind === 'twice' || kind === 'stale') {
          // 'twice': released and not handed out again; 'stale': released, then its chunk got a new owner.
          if (kind === 'stale' && pool.stats.inUse < cap(c)) live.push(pool.acquire()!);
          const h = live.length ? live.splice(0, 1)[0]! : pool.acquire();
          if (h === null) return; // nothing to release in this run
          pool.release(h);
          if (kind === 'stale') {
            const again = pool.acquire();
            if (again !== null) live.push(again);
          }
          handle = h;
          what = kind === 'twice' ? `releasing handle ${h} a second time` : `releasing stale handle ${h} (its chunk has been handed out again)`;
        } else if (kind === 'never acquired') {
          // A chunk that sits on the free list with generation 0 — a plausible-looking handle nobody got.
          const handedOut = new Set([...live, ...released].map((h) => h % INDEX_LIMIT));
          let index = 0;
          while (handedOut.has(index)) index++;
          if (index >= pool.stats.capacity) return;
          handle = index; // generation 0, as a chunk that was never handed out has it
          what = `releasing handle ${handle} (chunk ${index}, on the free list, never handed out)`;
        } else {
          handle = kind;
          what = `releasing ${handle}, which this pool never handed out`;
        }
        const before = { stats: pool.stats, size: pool.free.size, pushes: pool.free.pushes, pops: pool.free.pops };
        expect(() => pool.release(handle), `${describeConfig(c)}: ${what} must throw DoubleReleaseError (hint 3)`).toThrow(DoubleReleaseError);
        expect(
          { stats: pool.stats, size: pool.free.size, pushes: pool.free.pushes, pops: pool.free.pops },
          `${describeConfig(c)}: ${what} threw, but changed the pool first — validate the handle before touching anything (hint 3)`,
        ).toEqual(before);
        for (const h of live) pool.release(h); // the rightful owners still can
        expect(pool.stats.inUse, `${describeConfig(c)}: after ${what} and releasing every live handle`).toBe(0);
      }),
      { numRuns: 300, seed: 13 },
    );
  });

  it('debug mode: a write after release is caught wherever in the chunk it lands', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 300 }),
        fc.integer({ min: 1, max: 4 }),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }).filter((v) => v !== POISON),
        fc.constantFrom<'null' | 'grow'>('null', 'grow'),
        (chunkSize, chunksPerSlab, at, value, onExhausted) => {
          const pool = new BufferPool({ chunkSize, chunksPerSlab, onExhausted, maxSlabs: 2, debug: true });
          const others = Array.from({ length: chunksPerSlab - 1 }, () => pool.acquire()!);
          const a = pool.acquire()!;
          const kept = pool.bytes(a);
          kept.fill(0x11); // its owner wrote all of it
          pool.release(a);
          expect(
            kept.every((b) => b === POISON),
            `a released ${chunkSize}-byte chunk must be poisoned all over, but ${kept.filter((b) => b !== POISON).length} byte(s) are not ${POISON} (hint 3)`,
          ).toBe(true);
          expect(() => pool.bytes(a), 'bytes() of a released handle').toThrow(UseAfterReleaseError);
          const offset = at % chunkSize;
          kept[offset] = value; // use after release
          for (const h of others) pool.release(h);
          expect(() => {
            for (let i = 0; i < chunksPerSlab; i++) pool.acquire();
          }, `byte ${offset} of a released ${chunkSize}-byte chunk was written (${value}); handing the chunk out again must throw UseAfterReleaseError — check every byte, not just the first ones`).toThrow(
            UseAfterReleaseError,
          );
        },
      ),
      { numRuns: 200, seed: 17 },
    );
  });


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

  it('each error says what happened: its class name, the chunk, and why', () => {
    const pool = new BufferPool({ chunkSize: 32, chunksPerSlab: 4, debug: true });
    const a = pool.acquire()!;
    const kept = pool.bytes(a);
    pool.release(a);
    const caught = (f: () => unknown): Error => {
      try {
        f();
      } catch (err) {
        return err as Error;
      }
      throw new Error('expected an error');
    };
    const twice = caught(() => pool.release(a));
    expect(twice.name, 'the name of the error a double release throws').toBe('DoubleReleaseError');
    expect(twice.message, `a double release: the message names the chunk and says it was released twice (got "${twice.message}")`).toMatch(/chunk 0 .*twice/);
    const used = caught(() => pool.bytes(a));
    expect(used.name, 'the name of the error bytes() of a released handle throws in debug mode').toBe('UseAfterReleaseError');
    expect(used.message, `bytes() of a released handle: the message says it was used after release (got "${used.message}")`).toMatch(/chunk 0 .*after release/);
    for (const handle of [-1, 0.5, pool.stats.capacity]) {
      const stranger = caught(() => pool.release(handle));
      expect(stranger.message, `release(${handle}): a number this pool never handed out — the message says so (got "${stranger.message}")`).toMatch(
        new RegExp(`${handle} is not from this pool`),
      );
    }
    kept[3] = 7; // use after release
    const poisoned = caught(() => {
      for (let i = 0; i < 4; i++) pool.acquire();
    });
    expect(poisoned.message, `a write after release, caught on acquire: the message names the chunk and the byte (got "${poisoned.message}")`).toMatch(
      /chunk 0 .*written after .*byte 3/,
    );
  });

  it('stats show a leak: chunks never released stay in use', () => {
    const pool = new BufferPool({ chunkSize: 16, chunksPerSlab: 16 });
    const handles = Array.from({ length: 10 }, () => pool.acquire()!);
    for (const h of handles.slice(0, 7)) pool.release(h);
    expect(pool.stats).toMatchObject({ inUse: 3, highWater: 10, misses: 0 });
  });
});

describe('05-pool: the defaults', () => {
  it('4 KiB chunks, 256 per slab, null when empty, no debug checks; growth capped at 16 slabs', () => {
    const pool = new BufferPool();
    expect({ chunkSize: pool.chunkSize, chunksPerSlab: pool.chunksPerSlab, onExhausted: pool.onExhausted, debug: pool.debug, maxSlabs: pool.maxSlabs }).toEqual({
      chunkSize: 4096,
      chunksPerSlab: 256,
      onExhausted: 'null',
      debug: false,
      maxSlabs: 1,
    });
    expect(pool.stats).toEqual({ inUse: 0, highWater: 0, misses: 0, slabs: 1, capacity: 256 });
    expect(new BufferPool({ onExhausted: 'grow', chunkSize: 16 }).maxSlabs).toBe(16);
    expect(() => new BufferPool({ chunkSize: 1, chunksPerSlab: INDEX_LIMIT + 1 }), 'more chunks than a handle can index').toThrow(RangeError);
    expect(() => new BufferPool({ chunkSize: 1, chunksPerSlab: INDEX_LIMIT + 1 }), 'the RangeError names the limit').toThrow(String(INDEX_LIMIT));
  });

  it('without debug, the fast path: no chunk is ever filled with poison, and bytes() checks nothing', () => {
    const pool = new BufferPool({ chunkSize: 64, chunksPerSlab: 2 });
    const a = pool.acquire()!;
    const bytes = pool.bytes(a);
    expect(
      bytes.every((b) => b === 0),
      'a fresh chunk outside debug mode holds zeros: filling a new slab with poison is a pass over all of it, for debug mode only',
    ).toBe(true);
    bytes.fill(0x42);
    pool.release(a);
    expect(
      bytes.every((b) => b === 0x42),
      'release() outside debug mode poisoned the chunk: a pass over every byte on each release is what debug mode pays, not the fast path',
    ).toBe(true);
    expect(() => pool.bytes(a), 'bytes() outside debug mode does no check (it is on every read\'s path)').not.toThrow();
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

// Long horizons and kept references (issue 20, classes 2 and 3): a chunk's generation reaches
// GENERATION_LIMIT only after hours of releases, so the pool starts there (firstGeneration); and a
// stale handle is used *after* its chunk has a new owner, the moment a real bug uses it.
describe('05-pool: generations across their wrap, stale handles after reuse', () => {
  const REPLAY = 'Replay: npm test -- 05';

  it(`handles stay exact integers and stale ones are refused while a chunk's generation wraps at GENERATION_LIMIT (2^29)`, () => {
    for (const debug of [false, true]) {
      const pool = new BufferPool({ chunkSize: 16, chunksPerSlab: 1, debug, firstGeneration: GENERATION_LIMIT - 3 });
      const handles: Handle[] = [];
      for (let cycle = 0; cycle < 6; cycle++) {
        const h = pool.acquire()!;
        const generation = GENERATION_LIMIT - 3 + cycle;
        expect(
          Number.isSafeInteger(h) && h >= 0,
          `${debug ? 'debug' : 'fast'} pool, release #${cycle} of the chunk (generation ${generation > GENERATION_LIMIT - 1 ? `${generation}, which should have wrapped to ${generation % GENERATION_LIMIT}` : generation}): ` +
            `acquire returned ${h}, not an exact integer handle. index + generation × 2^24 passes 2^53 unless the generation wraps at GENERATION_LIMIT. ` +
            `Where to look: release — bump the generation modulo GENERATION_LIMIT. ${REPLAY}`,
        ).toBe(true);
        expect(handles, `cycle ${cycle}: acquire returned handle ${h}, equal to one handed out before the wrap: a stale handle would pass for it`).not.toContain(h);
        for (const stale of handles) {
          expect(() => pool.release(stale), `cycle ${cycle}: release of stale handle ${stale} (from before the wrap) must throw DoubleReleaseError (the chunk now belongs to ${h})`).toThrow(DoubleReleaseError);
        }
        if (debug) pool.bytes(h); // the live handle works
        handles.push(h);
        pool.release(h);
      }
    }
  });

  it('firstGeneration (given): 0 … GENERATION_LIMIT − 1, anything else is a RangeError', () => {
    for (const bad of [-1, GENERATION_LIMIT, 1.5]) {
      expect(() => new BufferPool({ firstGeneration: bad }), `firstGeneration ${bad}`).toThrow(RangeError);
      expect(() => new BufferPool({ firstGeneration: bad }), `the RangeError for firstGeneration ${bad} names the range 0..${GENERATION_LIMIT - 1}`).toThrow(`0..${GENERATION_LIMIT - 1}`);
    }
    for (const good of [0, GENERATION_LIMIT - 1]) {
      const pool = new BufferPool({ chunksPerSlab: 1, firstGeneration: good });
      expect(Math.floor(pool.acquire()! / INDEX_LIMIT), `the first handle carries generation ${good}`).toBe(good);
    }
  });

  it('debug mode: bytes() of a stale handle throws even after its chunk was handed out again (it has a new owner)', () => {
    const pool = new BufferPool({ chunkSize: 16, chunksPerSlab: 1, debug: true });
    const old = pool.acquire()!;
    pool.release(old);
    const owner = pool.acquire()!; // the same chunk, the next generation
    expect(owner % INDEX_LIMIT, 'a one-chunk pool hands out the same chunk again').toBe(old % INDEX_LIMIT);
    let verdict = 'returned the new owner\'s bytes';
    try {
      pool.bytes(old);
    } catch (e) {
      verdict = e instanceof UseAfterReleaseError ? 'ok' : `threw ${String(e)}`;
    }
    expect(
      verdict,
      `bytes(${old}) — a handle released before its chunk went to a new owner (handle ${owner}) — ${verdict}: whoever kept it now writes into someone else's message. ` +
        `Being in use is not enough: the handle's generation must be the chunk's current one. Where to look: bytes() in debug mode (the same check as release). ${REPLAY}`,
    ).toBe('ok');
    expect(() => pool.release(old), 'release of that stale handle').toThrow(DoubleReleaseError);
    pool.bytes(owner)[0] = 1; // the owner's handle still works
    pool.release(owner);
  });
});
