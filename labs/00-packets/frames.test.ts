// Grader for stage 00: the frame codec, checked against the reference codec (server/protocol)
// on random frame sequences cut at random points. fast-check shrinks a failure to a small case.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as reference from '#server/protocol/frame.ts';
import { FrameDecoder, FrameError, encodeFrame, type Frame } from '#stage/00-packets/frames.ts';
import { arrayBuffersHeldBy, mib } from '#kit/retained.ts';

const MAX = 65_536;

// --- generators ------------------------------------------------------------------------------------
/** Strings from all of Unicode: 1- to 4-byte UTF-8 (astral characters are surrogate pairs in JS), and
 * lone surrogates, which JSON.stringify escapes. Mixed with plain ASCII so both kinds get shrunk to. */
const char = fc.oneof(
  fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.constantFrom('é', 'ß', '€', '字', '😀', '𝄞', '\ud800', '\udfff', '\u0000', '"', '\\'),
);
const text = (maxLength: number) => fc.string({ unit: char, maxLength });
const body = fc.dictionary(text(8), fc.jsonValue({ maxDepth: 2, stringUnit: char }), { maxKeys: 5 }) as fc.Arbitrary<
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
/** JSON with every non-ASCII code unit escaped, so a failing body is readable in the message. */
function ascii(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
function show(f: Frame): string {
  const s = ascii(f.body);
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
        expect(Array.from(got), `encodeFrame(0x${type.toString(16)}, ${ascii(body)}) differs from the reference (hint 3: the length counts UTF-8 bytes, not characters)`).toEqual(
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
    expect((error as FrameError).message, 'a FrameError says what went wrong in its message').not.toBe('');
  });
});

describe('encodeFrame: the limit counts UTF-8 bytes', () => {
  // {"t":"…"} is 8 bytes + the string; the type byte makes 9. Fill the rest with characters of
  // 1, 2, 3 and 4 UTF-8 bytes ('😀' is 2 UTF-16 code units), so characters ≠ code units ≠ bytes.
  const fill = (bytes: number, unit: string, unitBytes: number) => 'x'.repeat(bytes % unitBytes) + unit.repeat(Math.floor(bytes / unitBytes));
  for (const [unit, unitBytes] of [['é', 2], ['€', 3], ['😀', 4]] as const) {
    it(`encodes exactly 65,536 bytes of '${unit}' text and refuses one byte more`, () => {
      const fits = encodeFrame(2, { t: fill(MAX - 9, unit, unitBytes) });
      expect(fits.length, `a frame of exactly 65,536 UTF-8 bytes made of '${unit}' is allowed (hint 3)`).toBe(4 + MAX);
      expect(new DataView(fits.buffer, fits.byteOffset).getUint32(0, false), 'the header counts UTF-8 bytes, type byte included').toBe(MAX);
      expect(Array.from(fits.subarray(0, 16))).toEqual(Array.from(reference.encodeFrame(2, { t: fill(MAX - 9, unit, unitBytes) }).subarray(0, 16)));
      let error: unknown;
      try {
        encodeFrame(2, { t: fill(MAX - 8, unit, unitBytes) });
      } catch (e) {
        error = e;
      }
      expect(error, `a body of '${unit}' making the frame 65,537 UTF-8 bytes must throw FrameError('too_long') — the limit counts bytes, not characters (hint 3)`).toBeInstanceOf(FrameError);
      expect((error as FrameError).reason).toBe('too_long');
    });
  }

  it('refuses a body of few characters but many bytes', () => {
    // 20,000 characters, 80,000+ bytes: the string length is far below the limit, the frame far above.
    let error: unknown;
    try {
      encodeFrame(2, { t: '😀'.repeat(20_000) });
    } catch (e) {
      error = e;
    }
    expect(error, "{ t: '😀' × 20,000 } is 80,009 bytes as UTF-8 and must throw FrameError('too_long'): the limit counts UTF-8 bytes (hint 3)").toBeInstanceOf(FrameError);
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

  it('copies what it keeps and leaves the caller\'s read buffer alone, wherever the chunk sits in it', () => {
    // One read buffer reused for every read, as a server does: each chunk is a subarray at some
    // byteOffset, the rest of the buffer holds garbage, and the next read overwrites all of it.
    fc.assert(
      fc.property(frames, cuts, fc.array(fc.integer({ min: 1, max: 61 }), { minLength: 1, maxLength: 8 }), (fs, fractions, offsets) => {
        const encoded = fs.map((f) => reference.encodeFrame(f.type, f.body));
        const stream = concat(encoded);
        const pieces = split(stream, fractions);
        const readBuffer = new Uint8Array(Math.max(...pieces.map((p) => p.length)) + 64);
        const decoder = new FrameDecoder();
        const got: Frame[] = [];
        let pushed = 0;
        let completed = 0; // bytes of the frames returned so far
        let framesDone = 0;
        for (let i = 0; i < pieces.length; i++) {
          const piece = pieces[i]!;
          const offset = offsets[i % offsets.length]! + (i % 3); // odd offsets too
          readBuffer.fill(0xa5 ^ (i & 0xff)); // the kernel overwrites the whole buffer on each read
          readBuffer.set(piece, offset);
          const snapshot = readBuffer.slice();
          const chunk = readBuffer.subarray(offset, offset + piece.length);
          let out: Frame[];
          try {
            out = decoder.push(chunk);
          } catch (error) {
            throw new Error(`push #${i + 1} of a valid stream threw ${String(error)}: ${whyReuseFails(pieces, offset)}`);
          }
          const changed = readBuffer.findIndex((b, k) => b !== snapshot[k]);
          expect(changed, `push #${i + 1} wrote into the caller's read buffer (byte ${changed}): the decoder must only read its chunk (hint 3)`).toBe(-1);
          got.push(...out);
          pushed += piece.length;
          for (let k = 0; k < out.length; k++) completed += encoded[framesDone + k]!.length;
          framesDone += out.length;
          expect(decoder.pending, `after push #${i + 1}: ${pushed} bytes in, ${completed} bytes of whole frames out, so pending must be ${pushed - completed}`).toBe(
            pushed - completed,
          );
        }
        const want = expected(stream);
        expect(got.map(show), `cut at [${pieces.map((p) => p.length).join(', ')}] bytes: ${whyReuseFails(pieces, offsets[0]!)}`).toEqual(want.map(show));
        expect(got).toEqual(want);
      }),
      { numRuns: 200 },
    );
  });

  /** Tells the two ways a reused, offset read buffer breaks a decoder apart, by replaying the pieces without reuse. */
  function whyReuseFails(pieces: Uint8Array[], offset: number): string {
    const atOffset = pieces.map((p) => {
      const own = new Uint8Array(p.length + offset + 8);
      own.set(p, offset);
      return own.subarray(offset, offset + p.length);
    });
    const fresh = feed(atOffset);
    const want = expected(concat(pieces));
    if (fresh.error === undefined && JSON.stringify(fresh.got.map(show)) === JSON.stringify(want.map(show))) {
      return "it works when each read has its own memory, so the decoder keeps a view of the caller's read buffer, which the next read overwrites (hint 3: copy what you keep)";
    }
    return `it also fails when each chunk is a subarray at byteOffset ${offset} of its own buffer: something reads chunk.buffer from index 0 (hint 2: a DataView or copy of chunk.buffer must start at chunk.byteOffset)`;
  }

  it('reassembles a header or body split at every offset, into two or three pushes', () => {
    const fs = [
      { type: 0x01, body: { a: 'é😀' } },
      { type: 0xff, body: {} },
      { type: 0x80, body: { t: 'x€' } },
    ];
    const stream = concat(fs.map((f) => reference.encodeFrame(f.type, f.body)));
    const want = expected(stream);
    // Each piece is read into the same buffer at byteOffset 3, which the next read overwrites.
    const readBuffer = new Uint8Array(stream.length + 8);
    const reused = (piece: Uint8Array) => {
      readBuffer.fill(0xa5);
      readBuffer.set(piece, 3);
      return readBuffer.subarray(3, 3 + piece.length);
    };
    for (let i = 0; i <= stream.length; i++) {
      for (let j = i; j <= stream.length; j++) {
        const decoder = new FrameDecoder();
        const got: Frame[] = [];
        let error: unknown;
        try {
          for (const piece of [stream.slice(0, i), stream.slice(i, j), stream.slice(j)]) got.push(...decoder.push(reused(piece)));
        } catch (e) {
          error = e;
        }
        expect(error, `cut at bytes ${i} and ${j} of ${stream.length}, each piece read into one reused buffer: push threw ${String(error)} (hint 3)`).toBeUndefined();
        expect(got.map(show), `cut at bytes ${i} and ${j} of ${stream.length}: frames lost, duplicated or garbled (hint 3)`).toEqual(want.map(show));
      }
    }
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
type BadKind = 'zero_length' | 'too_long' | 'huge' | 'bad_utf8' | 'bad_utf8_in_string' | 'surrogate_in_string' | 'bad_json' | 'array' | 'number' | 'null';
const badKind = fc.constantFrom<BadKind>('zero_length', 'too_long', 'huge', 'bad_utf8', 'bad_utf8_in_string', 'surrogate_in_string', 'bad_json', 'array', 'number', 'null');
const reasonOf: Record<BadKind, string> = {
  zero_length: 'zero_length',
  too_long: 'too_long',
  huge: 'too_long',
  bad_utf8: 'bad_json',
  bad_utf8_in_string: 'bad_json',
  surrogate_in_string: 'bad_json',
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
    case 'bad_utf8_in_string': {
      const bytes = payload(bytesOf(0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d)); // {"t":"\xff"}
      return { bytes, knownAfter: bytes.length };
    }
    case 'surrogate_in_string': {
      const bytes = payload(bytesOf(0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d)); // {"t":"\xed\xa0\x80"}
      return { bytes, knownAfter: bytes.length };
    }
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
      expect(
        (error as FrameError).reason,
        `a header announcing ${length} bytes is refused for its length itself ('zero_length' for 0, 'too_long' above 65,536): check the length field against both limits as soon as the 4 header bytes are in, before anything else (hint 2)`,
      ).toBe(length === 0 ? 'zero_length' : 'too_long');
    }
  });

  it('judges any announced length by the limits 1 ≤ N ≤ 65,536, on the push that completes the header', () => {
    const length = fc.oneof(
      fc.constantFrom(0, 1, 2, MAX - 1, MAX, MAX + 1, MAX + 2, 0x7fffffff, 0x80000000, 0xffffffff),
      fc.integer({ min: 0, max: MAX + 16 }),
      fc.integer({ min: 0, max: 0xffffffff }),
    );
    fc.assert(
      fc.property(length, fc.integer({ min: 0, max: 3 }), (n, cut) => {
        const decoder = new FrameDecoder();
        const h = header(n);
        expect(decoder.push(h.slice(0, cut)), `${cut} header bytes alone must not throw`).toEqual([]);
        let error: unknown;
        try {
          decoder.push(h.slice(cut));
        } catch (e) {
          error = e;
        }
        if (n === 0 || n > MAX) {
          expect(error, `a header announcing ${n} bytes must throw FrameError on the push that completes it (hint 2)`).toBeInstanceOf(FrameError);
          expect((error as FrameError).reason, `a header announcing ${n} bytes`).toBe(n === 0 ? 'zero_length' : 'too_long');
        } else {
          expect(error, `a header announcing ${n} bytes is valid (1 ≤ N ≤ 65,536, an unsigned 32-bit number), but push threw ${String(error)} (hint 2)`).toBeUndefined();
          expect(decoder.pending, `the header of a ${n}-byte frame is kept while its body is awaited`).toBe(4);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('accepts a header announcing exactly 65,536 bytes, and waits for its body', () => {
    const decoder = new FrameDecoder();
    expect(() => decoder.push(header(MAX)), 'length 65,536 is the largest valid frame, not an error (hint 2)').not.toThrow();
    expect(decoder.pending, 'the 4 header bytes are kept while the body is awaited').toBe(4);
  });

  it('rejects bodies that are not UTF-8 JSON objects', () => {
    for (const kind of ['bad_utf8', 'bad_utf8_in_string', 'surrogate_in_string', 'bad_json', 'array', 'number', 'null'] as const) {
      let error: unknown;
      try {
        new FrameDecoder().push(badFrame(kind).bytes);
      } catch (e) {
        error = e;
      }
      expect(error, `a ${kind.replaceAll('_', ' ')} body must throw FrameError('${reasonOf[kind]}') (hint 2)`).toBeInstanceOf(FrameError);
      expect((error as FrameError).reason, `${kind} body`).toBe(reasonOf[kind]);
    }
  });

  it('rejects invalid UTF-8 anywhere in a body, even inside a JSON string', () => {
    // Each sequence is invalid UTF-8 (RFC 3629): a lenient decoder turns it into U+FFFD and, inside
    // a string, the JSON still parses — only a strict decoder (fatal: true) rejects it.
    const invalid: Record<string, number[]> = {
      'a lone continuation byte': [0x80],
      'a continuation byte 0xbf': [0xbf],
      'the byte 0xff': [0xff],
      'the byte 0xfe': [0xfe],
      'an overlong "/" (0xc0 0xaf)': [0xc0, 0xaf],
      'an overlong NUL (0xc1 0x80)': [0xc1, 0x80],
      'an overlong 3-byte form (0xe0 0x80 0xaf)': [0xe0, 0x80, 0xaf],
      'an overlong 4-byte form (0xf0 0x80 0x80 0xaf)': [0xf0, 0x80, 0x80, 0xaf],
      'a UTF-16 surrogate encoded as UTF-8 (0xed 0xa0 0x80)': [0xed, 0xa0, 0x80],
      'a code point above U+10FFFF (0xf4 0x90 0x80 0x80)': [0xf4, 0x90, 0x80, 0x80],
      'a 2-byte sequence cut short': [0xc3],
      'a 3-byte sequence cut short': [0xe2, 0x82],
      'a 4-byte sequence cut short': [0xf0, 0x9f, 0x98],
      'a 5-byte form (0xf8 …)': [0xf8, 0x88, 0x80, 0x80, 0x80],
    };
    const enc = new TextEncoder();
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(invalid)),
        text(6),
        text(6),
        fc.boolean(),
        fc.integer({ min: 0, max: 255 }),
        (what, before, after, inKey, type) => {
          // {"k":"<before><bad><after>"} or {"<before><bad><after>":1}
          const quoted = (x: string) => enc.encode(JSON.stringify(x).slice(1, -1));
          const inner = concat([quoted(before), bytesOf(...invalid[what]!), quoted(after)]);
          const json = inKey
            ? concat([enc.encode('{"'), inner, enc.encode('":1}')])
            : concat([enc.encode('{"k":"'), inner, enc.encode('"}')]);
          const bytes = concat([header(1 + json.length), bytesOf(type), json]);
          let error: unknown;
          try {
            new FrameDecoder().push(bytes);
          } catch (e) {
            error = e;
          }
          expect(
            error,
            `a body with ${what} inside a JSON ${inKey ? 'key' : 'string'} is not UTF-8 and must throw FrameError('bad_json') (hint 2: TextDecoder with fatal: true)`,
          ).toBeInstanceOf(FrameError);
          expect((error as FrameError).reason, `${what} inside a JSON ${inKey ? 'key' : 'string'}`).toBe('bad_json');
        },
      ),
      { numRuns: 200 },
    );
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
        expect((error as FrameError).name, `${kind}: a FrameError is named 'FrameError' (it shows in logs and stack traces)`).toBe('FrameError');
        expect((error as FrameError).message, `${kind}: a FrameError says what went wrong in its message`).not.toBe('');
        let again: unknown;
        try {
          decoder.push(reference.encodeFrame(1, {}));
        } catch (e) {
          again = e;
        }
        expect(again, 'after an error, push must keep throwing: the stream lost its framing').toBeInstanceOf(FrameError);
        expect(again, 'after an error, every push throws the same FrameError again (README step 3): keep it, do not re-parse the bytes').toBe(error);
      }),
      { numRuns: 300 },
    );
  });
});

// What a result keeps after it returns (issue 20, class 3): results held side by side, and the
// memory a decoder still holds after a long stream. The other graders compare each result at once.
describe('what results keep after they return', () => {
  it('every encodeFrame result stays as it was, however many frames are encoded after it', () => {
    const bodies = [{ a: 'first' }, { b: 'second, longer than the first' }, { c: 3 }, {}];
    const held = bodies.map((b, i) => encodeFrame(i + 1, b));
    bodies.forEach((b, i) => {
      const want = Array.from(reference.encodeFrame(i + 1, b));
      expect(
        Array.from(held[i]!),
        `the frame encodeFrame returned for ${JSON.stringify(b)} changed after ${bodies.length - 1 - i} later call(s): it is a view of memory the next call reuses. ` +
          'Return a fresh Uint8Array per frame (the caller may queue it and write it later). Replay: npm test -- 00',
      ).toEqual(want);
    });
  });

  it('holds memory for what is pending, not for everything it has decoded (4 MiB through one decoder)', () => {
    const frame = reference.encodeFrame(5, { text: 'x'.repeat(1000) }); // ~1 KiB
    const CHUNK = 1_000; // never a multiple of the frame: a tail is always pending
    const TOTAL = 4 * 1024 * 1024;
    let decoded = 0;
    const { value: decoder, bytes } = arrayBuffersHeldBy(() => {
      const d = new FrameDecoder();
      const stream = new Uint8Array(frame.length * 16);
      for (let i = 0; i < 16; i++) stream.set(frame, i * frame.length);
      for (let sent = 0, at = 0; sent < TOTAL; sent += CHUNK) {
        const chunk = new Uint8Array(CHUNK);
        for (let k = 0; k < CHUNK; k++, at = (at + 1) % stream.length) chunk[k] = stream[at]!;
        decoded += d.push(chunk).length;
      }
      return d;
    });
    expect(decoded, 'the stream decodes').toBeGreaterThan(4000);
    expect(
      bytes,
      `after ${mib(TOTAL)} in ${CHUNK}-byte chunks (${decoded.toLocaleString('en-US')} frames of ${frame.length} bytes; pending ${decoder.pending} bytes now, never more than ` +
        `${frame.length + CHUNK}) the decoder still holds ${mib(bytes)} of buffers: it keeps bytes it has already decoded. ` +
        'Where to look: FrameDecoder — drop the consumed front when you make room (copy the pending tail to the start, or into a fresh buffer), so memory follows what is pending, not the stream. Replay: npm test -- 00',
    ).toBeLessThan(1024 * 1024);
  });
});

// A failed object stays failed for every later call, the trivial ones included (issue 20, class 6).
describe('FrameDecoder: a failed decoder stays failed, even for trivial calls', () => {
  it('after a bad frame, an empty push and a one-byte push throw the same FrameError', () => {
    const decoder = new FrameDecoder();
    let error: unknown;
    try {
      decoder.push(Uint8Array.of(0, 0, 0, 0));
    } catch (e) {
      error = e;
    }
    expect(error, 'a header announcing length 0 throws').toBeInstanceOf(FrameError);
    for (const [what, chunk] of [['an empty chunk', new Uint8Array(0)], ['one byte', Uint8Array.of(0)], ['a good frame', reference.encodeFrame(1, {})]] as const) {
      let again: unknown = 'nothing: it returned normally';
      try {
        decoder.push(chunk);
      } catch (e) {
        again = e;
      }
      expect(
        again,
        `after the bad frame, push(${what}) did not throw the decoder's FrameError (got ${again instanceof Error ? again.message : String(again)}). ` +
          'A failed decoder answers every later push with the same error, an empty one too: check the failure first, before any shortcut (README step 3). Replay: npm test -- 00',
      ).toBe(error);
    }
  });
});
