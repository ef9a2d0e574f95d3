// Grader for stage 00: the frame codec, checked against the reference codec (server/protocol)
// on random frame sequences cut at random points. fast-check shrinks a failure to a small case.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as reference from '#server/protocol/frame.ts';
import { FrameDecoder, FrameError, encodeFrame, type Frame } from '#stage/00-packets/frames.ts';

const MAX = 65_536;

// --- generators ------------------------------------------------------------------------------------
const body = fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }) as fc.Arbitrary<
  Record<string, unknown>
>;
const frame = fc.record({ type: fc.integer({ min: 0, max: 255 }), body });
const frames = fc.array(frame, { minLength: 1, maxLength: 12 });
/** Cut points as fractions of the stream, so they fit whatever length the frames make. */
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 20 });

// --- helpers -----------------------------------------------------------------------------------------
function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, (at += p.length) - p.length);
  return out;
}
/** The stream cut at the given fractions; pieces may be empty (a read can return fewer bytes than hoped, never none, but an empty push must still be harmless). */
function split(stream: Uint8Array, fractions: number[]): Uint8Array[] {
  const points = [...new Set(fractions.map((f) => Math.floor(f * stream.length)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let from = 0;
  for (const p of [...points, stream.length]) {
    pieces.push(stream.slice(from, p));
    from = p;
  }
  return pieces;
}
function bytesOf(...xs: number[]): Uint8Array {
  return Uint8Array.from(xs);
}
function header(length: number): Uint8Array {
  const h = new Uint8Array(4);
  new DataView(h.buffer).setUint32(0, length, false);
  return h;
}
/** What the reference decoder makes of the stream (the oracle). */
function expected(stream: Uint8Array): Frame[] {
  return new reference.FrameDecoder().push(stream);
}
function show(f: Frame): string {
  const s = JSON.stringify(f.body);
  return `type 0x${f.type.toString(16)} ${s.length > 40 ? s.slice(0, 40) + '…' : s}`;
}
/** Feeds pieces to a fresh decoder; returns the frames and the error, with the index of the push that threw. */
function feed(pieces: Uint8Array[]) {
  const decoder = new FrameDecoder();
  const got: Frame[] = [];
  const perPush: number[] = [];
  for (let i = 0; i < pieces.length; i++) {
    try {
      const out = decoder.push(pieces[i]!);
      got.push(...out);
      perPush.push(out.length);
    } catch (error) {
      return { decoder, got, perPush, error, at: i };
    }
  }
  return { decoder, got, perPush, error: undefined, at: -1 };
}

// --- 1. correctness ------------------------------------------------------------------------------------
describe('encodeFrame', () => {
  it('writes the length big-endian, then the type byte, then the JSON', () => {
    const got = Array.from(encodeFrame(0x0a, {}));
    expect(got, 'encodeFrame(0x0a, {}) should be 4 length bytes (big-endian 3), type 0x0a, then "{}" (hint 1)').toEqual([
      0, 0, 0, 3, 0x0a, 0x7b, 0x7d,
    ]);
  });

  it('produces the same bytes as the reference codec for any body (unicode included)', () => {
    fc.assert(
      fc.property(frame, ({ type, body }) => {
        const want = reference.encodeFrame(type, body);
        const got = encodeFrame(type, body);
        expect(Array.from(got), `encodeFrame(0x${type.toString(16)}, ${JSON.stringify(body)}) differs from the reference`).toEqual(
          Array.from(want),
        );
      }),
      { numRuns: 200 },
    );
  });

  it('encodes a frame of exactly 65,536 bytes and refuses one byte more', () => {
    // {"t":"xxx…"} is 8 bytes + the x's; with the type byte the frame is 9 + k bytes.
    const fits = encodeFrame(1, { t: 'x'.repeat(MAX - 9) });
    expect(fits.length, 'a frame of exactly 65,536 bytes is allowed').toBe(4 + MAX);
    expect(new DataView(fits.buffer, fits.byteOffset).getUint32(0, false)).toBe(MAX);
    let error: unknown;
    try {
      encodeFrame(1, { t: 'x'.repeat(MAX - 8) });
    } catch (e) {
      error = e;
    }
    expect(error, 'a body making the frame 65,537 bytes long must throw a FrameError').toBeInstanceOf(FrameError);
    expect((error as FrameError).reason).toBe('too_long');
  });
});

describe('FrameDecoder: reassembly', () => {
  it('returns every frame of a chunk that holds several', () => {
    fc.assert(
      fc.property(frames, (fs) => {
        const stream = concat(fs.map((f) => reference.encodeFrame(f.type, f.body)));
        const got = new FrameDecoder().push(stream);
        expect(got.length, `one chunk held ${fs.length} frames; push returned ${got.length} (hint 1: loop, do not stop after one)`).toBe(fs.length);
        expect(got).toEqual(expected(stream));
      }),
      { numRuns: 100 },
    );
  });

  it('loses nothing and duplicates nothing, wherever the stream is cut', () => {
    fc.assert(
      fc.property(frames, cuts, (fs, fractions) => {
        const stream = concat(fs.map((f) => reference.encodeFrame(f.type, f.body)));
        const pieces = split(stream, fractions);
        const { got, error, decoder } = feed(pieces);
        expect(error, `a valid stream cut in ${pieces.length} pieces made push throw: ${String(error)}`).toBeUndefined();
        const want = expected(stream);
        expect(
          got.map(show),
          `cut at [${pieces.map((p) => p.length).join(', ')}] bytes: frames lost, duplicated or garbled (hint 1: keep the unused tail)`,
        ).toEqual(want.map(show));
        expect(got).toEqual(want);
        expect(decoder.pending, 'after the last complete frame, pending should be 0').toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('reassembles a stream fed one byte at a time', () => {
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 4 }), (fs) => {
        const stream = concat(fs.map((f) => reference.encodeFrame(f.type, f.body)));
        const decoder = new FrameDecoder();
        const got: Frame[] = [];
        for (let i = 0; i < stream.length; i++) {
          got.push(...decoder.push(stream.subarray(i, i + 1)));
          if (i === stream.length - 2) expect(decoder.pending, 'one byte short of the end, pending counts the unfinished frame').toBeGreaterThan(0);
        }
        expect(got, 'fed one byte at a time').toEqual(expected(stream));
      }),
      { numRuns: 60 },
    );
  });

  it('copies what it keeps: the caller may reuse its read buffer', () => {
    const f1 = reference.encodeFrame(7, { text: 'hello' });
    const f2 = reference.encodeFrame(7, { text: 'world' });
    const stream = concat([f1, f2]);
    const readBuffer = new Uint8Array(stream.length);
    const decoder = new FrameDecoder();
    const got: Frame[] = [];
    const cut = f1.length + 3;
    readBuffer.set(stream.subarray(0, cut));
    got.push(...decoder.push(readBuffer.subarray(0, cut)));
    readBuffer.fill(0xee); // the next read() overwrites the same memory
    readBuffer.set(stream.subarray(cut));
    got.push(...decoder.push(readBuffer.subarray(0, stream.length - cut)));
    expect(got, 'the second frame was garbled: the decoder kept a view of the caller’s buffer instead of a copy (hint 3)').toEqual(
      expected(stream),
    );
  });

  it('handles frames near the 64 KiB limit, cut anywhere', () => {
    const big = (length: number, c: string) => ({ type: 9, body: { t: c.repeat(length - 9) } });
    fc.assert(
      fc.property(fc.shuffledSubarray([big(MAX, 'a'), big(MAX - 1, 'b'), { type: 1, body: {} }, { type: 3, body: { t: 'é'.repeat(20_000) } }], { minLength: 2 }), cuts, (fs, fractions) => {
        const stream = concat(fs.map((f) => reference.encodeFrame(f.type, f.body)));
        const { got, error } = feed(split(stream, fractions));
        expect(error, `frames of up to 65,536 bytes are valid, but push threw ${String(error)} (hint 2: the limit is inclusive)`).toBeUndefined();
        expect(got.map(show)).toEqual(expected(stream).map(show));
      }),
      { numRuns: 15 },
    );
  });
});

// --- 2. robustness: a hostile peer ---------------------------------------------------------------------
type BadKind = 'zero_length' | 'too_long' | 'huge' | 'bad_utf8' | 'bad_json' | 'array' | 'number' | 'null';
const badKind = fc.constantFrom<BadKind>('zero_length', 'too_long', 'huge', 'bad_utf8', 'bad_json', 'array', 'number', 'null');
const reasonOf: Record<BadKind, string> = {
  zero_length: 'zero_length',
  too_long: 'too_long',
  huge: 'too_long',
  bad_utf8: 'bad_json',
  bad_json: 'bad_json',
  array: 'not_object',
  number: 'not_object',
  null: 'not_object',
};
/** The bad frame's bytes, and how many of them must arrive before the decoder can know it is bad. */
function badFrame(kind: BadKind): { bytes: Uint8Array; knownAfter: number } {
  const payload = (text: string | Uint8Array) => {
    const json = typeof text === 'string' ? new TextEncoder().encode(text) : text;
    return concat([header(1 + json.length), bytesOf(0x07), json]);
  };
  switch (kind) {
    case 'zero_length':
      return { bytes: concat([header(0), bytesOf(0x07, 0x7b, 0x7d)]), knownAfter: 4 };
    case 'too_long':
      return { bytes: concat([header(MAX + 1), new Uint8Array(64)]), knownAfter: 4 };
    case 'huge':
      return { bytes: concat([header(0xffffffff), new Uint8Array(64)]), knownAfter: 4 };
    case 'bad_utf8':
      return { bytes: payload(bytesOf(0x7b, 0xff, 0x7d)), knownAfter: 8 };
    case 'bad_json': {
      const bytes = payload('{"text": ');
      return { bytes, knownAfter: bytes.length };
    }
    case 'array':
      return { bytes: payload('[1,2]'), knownAfter: 10 };
    case 'number':
      return { bytes: payload('7'), knownAfter: 6 };
    case 'null':
      return { bytes: payload('null'), knownAfter: 9 };
  }
}

describe('FrameDecoder: bad frames', () => {
  it('rejects a bad length the moment the header is complete, before any body byte', () => {
    for (const length of [0, MAX + 1, 0xffffffff]) {
      const decoder = new FrameDecoder();
      const h = header(length);
      for (let i = 0; i < 3; i++) {
        expect(decoder.push(h.subarray(i, i + 1)), `header byte ${i + 1} of 4 alone must not throw yet`).toEqual([]);
      }
      let error: unknown;
      try {
        decoder.push(h.subarray(3, 4));
      } catch (e) {
        error = e;
      }
      expect(
        error,
        `a header announcing ${length} bytes must throw FrameError as soon as its 4th byte arrives — a hostile peer never sends the body (hint 2)`,
      ).toBeInstanceOf(FrameError);
      expect((error as FrameError).reason).toBe(length === 0 ? 'zero_length' : 'too_long');
    }
  });

  it('accepts a header announcing exactly 65,536 bytes, and waits for its body', () => {
    const decoder = new FrameDecoder();
    expect(() => decoder.push(header(MAX)), 'length 65,536 is the largest valid frame, not an error (hint 2)').not.toThrow();
    expect(decoder.pending, 'the 4 header bytes are kept while the body is awaited').toBe(4);
  });

  it('rejects bodies that are not UTF-8 JSON objects', () => {
    for (const kind of ['bad_utf8', 'bad_json', 'array', 'number', 'null'] as const) {
      let error: unknown;
      try {
        new FrameDecoder().push(badFrame(kind).bytes);
      } catch (e) {
        error = e;
      }
      expect(error, `a ${kind.replace('_', ' ')} body must throw FrameError('${reasonOf[kind]}') (hint 2)`).toBeInstanceOf(FrameError);
      expect((error as FrameError).reason, `${kind} body`).toBe(reasonOf[kind]);
    }
  });

  it('delivers the good frames before a bad one, throws at the right push, then stays failed', () => {
    fc.assert(
      fc.property(fc.array(frame, { maxLength: 6 }), badKind, cuts, (good, kind, fractions) => {
        const encoded = good.map((f) => reference.encodeFrame(f.type, f.body));
        const bad = badFrame(kind);
        const stream = concat([...encoded, bad.bytes, reference.encodeFrame(1, { after: true })]);
        const pieces = split(stream, fractions);
        const { got, error, at, decoder } = feed(pieces);
        const goodBytes = encoded.reduce((n, e) => n + e.length, 0);
        // The push that completes the bad frame's telltale bytes is the one that must throw.
        const critical = goodBytes + bad.knownAfter;
        let reached = 0;
        let mustThrowAt = 0;
        while ((reached += pieces[mustThrowAt]!.length) < critical) mustThrowAt++;
        expect(error, `${kind}: the bad frame after ${good.length} good ones was never rejected (hint 2)`).toBeInstanceOf(FrameError);
        expect((error as FrameError).reason, `${kind}: wrong reason`).toBe(reasonOf[kind]);
        expect(at, `${kind}: push #${at + 1} threw, but the bad frame was knowable at push #${mustThrowAt + 1} (hint 2)`).toBe(mustThrowAt);
        // Frames completed by earlier pushes must have been returned; ones in the throwing push may be lost.
        const before = reached - pieces[mustThrowAt]!.length;
        let complete = 0;
        for (let i = 0, end = 0; i < encoded.length && (end += encoded[i]!.length) <= before; i++) complete++;
        const want = expected(concat(encoded));
        expect(got.length, `${kind}: frames lost before the bad one`).toBeGreaterThanOrEqual(complete);
        expect(got, `${kind}: frames before the bad one garbled or duplicated`).toEqual(want.slice(0, got.length));
        expect(() => decoder.push(reference.encodeFrame(1, {})), 'after an error, push must keep throwing: the stream lost its framing').toThrow(
          FrameError,
        );
      }),
      { numRuns: 300 },
    );
  });
});
