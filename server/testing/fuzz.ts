// Property-based fuzzing of the wire (fast-check), shared by server/test/fuzz.test.ts and
// `npm run fuzz`. Two kinds of cases, each sent on its own connection in one write:
// - a session: many well-framed requests with hostile bodies (wrong types, missing fields, huge
//   strings and numbers, lone surrogates, ids of every kind, __proto__/constructor keys, unknown fields), before or
//   after LOGIN. Every frame must get exactly one reply, in order, with the documented code, and
//   the connection stays open (a PING at the end proves it).
// - a broken stream: a few good requests, then something that breaks the framing (lengths 0,
//   65,537, 2^32−1, invalid UTF-8, JSON that is not an object, unknown types, random bytes, a frame
//   cut short). The good ones are answered, then `bad_frame` and the server closes (a frame cut
//   short: no error; the server closes when the client does).
// The expected outcome comes from the protocol page's rules, written out again here — not from the
// server's own code.
import fc from 'fast-check';
import net from 'node:net';
import { Req, Srv } from '../protocol/codes.ts';

const MAX_FRAME = 65_536;
const ID_MAX = 128;
const USER_RE = /^[a-z0-9_]{3,24}$/;
const ROOM_RE = /^#[a-z0-9_-]{1,32}$/;

export interface WireFrame {
  type: number;
  body: Record<string, unknown>;
}

// ── an independent reference parser ─────────────────────────────────────────────────────────────

export type RefResult = { frames: WireFrame[]; end: 'clean' | 'truncated' | 'bad' };

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses a whole byte stream by the protocol page's rules: the frames, and how the stream ends. */
export function referenceParse(bytes: Uint8Array): RefResult {
  const frames: WireFrame[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < 4) return { frames, end: 'truncated' };
    const n = ((bytes[at]! * 2 ** 24) + (bytes[at + 1]! << 16) + (bytes[at + 2]! << 8) + bytes[at + 3]!);
    if (n === 0 || n > MAX_FRAME) return { frames, end: 'bad' };
    if (bytes.length - at - 4 < n) return { frames, end: 'truncated' };
    const type = bytes[at + 4]!;
    let body: unknown;
    try {
      body = JSON.parse(strictUtf8.decode(bytes.subarray(at + 5, at + 4 + n)));
    } catch {
      return { frames, end: 'bad' };
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return { frames, end: 'bad' };
    frames.push({ type, body: body as Record<string, unknown> });
    at += 4 + n;
  }
  return { frames, end: 'clean' };
}

export function frameBytes(type: number, payload: Uint8Array | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  const out = Buffer.alloc(5 + body.length);
  out.writeUInt32BE(1 + body.length, 0);
  out[4] = type;
  body.copy(out, 5);
  return out;
}

function header(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

// ── hostile bodies ───────────────────────────────────────────────────────────────────────────────

/** A lone UTF-16 surrogate: JSON.stringify writes it as a "\udXXX" escape, valid JSON but not a character. */
const loneSurrogate: fc.Arbitrary<string> = fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c));

/**
 * A value of a string field (as JSON text) with one lone surrogate put anywhere in it: still
 * ill-formed wherever it lands (between the halves of a pair it breaks the pair). Built from a good
 * value, so only the well-formedness rule can refuse it.
 */
const withLoneSurrogate = (good: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc.tuple(good, loneSurrogate, fc.nat()).map(([json, lone, at]) => {
    const v: unknown = JSON.parse(json);
    const s = typeof v === 'string' ? v : String(v); // a numeric id becomes a string one
    const i = at % (s.length + 1);
    return JSON.stringify(s.slice(0, i) + lone + s.slice(i));
  });

const FIELDS = ['id', 'user', 'password', 'to', 'text', 'room', 'with', 'before', 'limit', 'key', 'token', 'newPassword', 'all'];
const ODD_KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '', 'ID', 'id '];

/** A JSON value as text: ordinary values plus what JSON.stringify never writes (1e400, long digits). */
const jsonText: fc.Arbitrary<string> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .oneof(fc.boolean(), fc.constant(null), fc.double(), fc.array(fc.integer(), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 3 }))
      .map((v) => JSON.stringify(v)),
  },
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }).map((s) => JSON.stringify(s)) },
  { weight: 2, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.constantFrom('1e400', '-1e400', '1e-400', '123456789012345678901234567890', '-0', '0.5', '9007199254740993', 'true', 'null', '[]', '{}', '{"__proto__":{"id":1}}') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }).map((s) => JSON.stringify(s)) },
  { weight: 1, arbitrary: withLoneSurrogate(fc.string({ maxLength: 30 }).map((s) => JSON.stringify(s))) },
);

/** A huge string (up to most of a frame), or one just past a limit: rare, they cost bandwidth. */
const hugeText: fc.Arbitrary<string> = fc.oneof(
  fc.integer({ min: 129, max: 60_000 }).map((n) => JSON.stringify('x'.repeat(n))),
  fc.constantFrom(129, 4_001, 4_000, 128).map((n) => JSON.stringify('é'.repeat(n))),
);

/** A possible user name (fc.stringMatching is far slower). */
const userName = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789_'), minLength: 3, maxLength: 24 });

/** Values that pass a field's rule, so bodies often reach the deeper checks. */
const goodValue: Record<string, fc.Arbitrary<string>> = {
  id: fc.oneof(fc.integer().map(String), fc.string({ maxLength: ID_MAX }).map((s) => JSON.stringify(s))),
  user: userName.map((s) => JSON.stringify(s)),
  to: userName.map((s) => JSON.stringify(s)),
  with: userName.map((s) => JSON.stringify(s)),
  password: fc.string({ minLength: 8, maxLength: 40 }).map((s) => JSON.stringify(s)),
  text: fc.string({ minLength: 1, maxLength: 60 }).map((s) => JSON.stringify(s)),
  room: fc.constantFrom('#a', '#fuzz', '#b-c', '#x_1').map((s) => JSON.stringify(s)),
  before: fc.integer({ min: 1, max: 1_000_000 }).map(String),
  limit: fc.integer({ min: 1, max: 500 }).map(String),
  key: fc.string({ minLength: 1, maxLength: 64 }).map((s) => JSON.stringify(s)),
  // A session token's form (43 base64url characters): never one the server handed out.
  token: fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'), minLength: 43, maxLength: 43 }).map((s) => JSON.stringify(s)),
  newPassword: fc.string({ minLength: 8, maxLength: 40 }).map((s) => JSON.stringify(s)),
  all: fc.boolean().map(String),
};

const STRING_FIELDS = ['id', 'user', 'to', 'with', 'password', 'text', 'room', 'key', 'token', 'newPassword'];

const member: fc.Arbitrary<[string, string]> = fc.oneof(
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('id', 'text', 'user', 'room', 'password', 'key', 'pad'), hugeText) },
  { weight: 40, arbitrary: fc.constantFrom(...FIELDS).chain((k) => fc.tuple(fc.constant(k), fc.oneof({ weight: 2, arbitrary: goodValue[k]! }, { weight: 1, arbitrary: jsonText }))) },
  { weight: 4, arbitrary: fc.constantFrom(...STRING_FIELDS).chain((k) => fc.tuple(fc.constant(k), withLoneSurrogate(goodValue[k]!))) },
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...ODD_KEYS), jsonText) },
  { weight: 6, arbitrary: fc.tuple(fc.string({ maxLength: 12 }), jsonText) },
);

export interface RequestCase {
  type: number;
  /** The body as sent: JSON text of an object (possibly with repeated keys). */
  json: string;
}

export const requestCase: fc.Arbitrary<RequestCase> = fc
  .tuple(
    // LOGOUT is left out: it ends the session the rest of the case runs in.
    fc.oneof({ weight: 10, arbitrary: fc.integer({ min: Req.REGISTER, max: Req.PING }) }, { weight: 2, arbitrary: fc.constantFrom(Req.RESUME, Req.PASSWORD) }),
    fc.oneof(
      { weight: 5, arbitrary: goodValue.id!.map((v) => [['id', v]] as Array<[string, string]>) },
      { weight: 1, arbitrary: fc.constant([] as Array<[string, string]>) },
      { weight: 1, arbitrary: withLoneSurrogate(fc.string({ maxLength: 20 }).map((s) => JSON.stringify(s))).map((v) => [['id', v]] as Array<[string, string]>) },
    ),
    fc.array(member, { maxLength: 6 }),
  )
  .map(([type, id, rest]) => ({ type, json: `{${[...id, ...rest].map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}` }))
  .filter((c) => 1 + Buffer.byteLength(c.json) <= MAX_FRAME); // well framed: the body fits

// ── the oracle ───────────────────────────────────────────────────────────────────────────────────

export type SessionState = 'anon' | 'authed';

/** What the reply to one request must be: its `re` (undefined: none) and the codes it may carry. */
export interface Expected {
  re: string | number | undefined;
  codes: ReadonlySet<string>; // 'ok' for OK
}

const codes = (...c: string[]) => new Set(c);

function codePoints(s: string): number {
  return [...s].length;
}

/** Every string field must be well-formed Unicode: a lone surrogate (a code point of category Cs) is bad_request. */
function wellFormed(s: string): boolean {
  return !/\p{Cs}/u.test(s);
}

/** A string field's value as the page's rules see it: a well-formed string, or nothing valid. */
function goodString(v: unknown): v is string {
  return typeof v === 'string' && wellFormed(v);
}

function validField(body: Record<string, unknown>, field: string): boolean {
  const v = Object.hasOwn(body, field) ? body[field] : undefined;
  switch (field) {
    case 'user':
    case 'to':
    case 'with':
      return goodString(v) && USER_RE.test(v);
    case 'password':
    case 'newPassword':
      return goodString(v) && codePoints(v) >= 8 && codePoints(v) <= 128;
    case 'token':
      return goodString(v) && /^[A-Za-z0-9_-]{43}$/.test(v);
    case 'text':
      return goodString(v) && codePoints(v) >= 1 && codePoints(v) <= 4_000;
    case 'room':
      return goodString(v) && ROOM_RE.test(v);
    default:
      return true;
  }
}

const REQUIRED: Record<number, string[]> = {
  [Req.REGISTER]: ['user', 'password'],
  [Req.LOGIN]: ['user', 'password'],
  [Req.SEND]: ['to', 'text'],
  [Req.WIZZ]: ['to'],
  [Req.JOIN]: ['room'],
  [Req.LEAVE]: ['room'],
  [Req.SAY]: ['room', 'text'],
  [Req.WHO]: [],
  [Req.HISTORY]: ['with'],
  [Req.PING]: [],
  [Req.RESUME]: ['token'],
  [Req.PASSWORD]: ['password', 'newPassword'],
};

const OUTCOMES: Record<number, Set<string>> = {
  [Req.REGISTER]: codes('ok', 'user_taken', 'rate_limited'),
  [Req.LOGIN]: codes('ok', 'auth_failed', 'rate_limited'),
  [Req.SEND]: codes('ok', 'no_such_user', 'key_reused', 'rate_limited'),
  [Req.WIZZ]: codes('ok', 'no_such_user', 'offline', 'rate_limited'),
  [Req.JOIN]: codes('ok', 'limit_reached', 'rate_limited'),
  [Req.LEAVE]: codes('ok', 'not_member'),
  [Req.SAY]: codes('ok', 'not_member', 'rate_limited'),
  [Req.WHO]: codes('ok'),
  [Req.HISTORY]: codes('ok', 'no_such_user'),
  [Req.PING]: codes('ok'),
  [Req.RESUME]: codes('auth_failed', 'rate_limited'), // a generated token was never handed out
  [Req.PASSWORD]: codes('ok', 'auth_failed', 'rate_limited'),
};

/** The documented reply to one well-framed request of a request type. */
export function expectedReply(state: SessionState, type: number, body: Record<string, unknown>): Expected {
  const id = Object.hasOwn(body, 'id') ? body.id : undefined;
  const idOk = (goodString(id) && id.length <= ID_MAX) || (typeof id === 'number' && Number.isFinite(id));
  if (!idOk) return { re: undefined, codes: codes('bad_request') };
  const re = id as string | number;
  if (type === Req.PING) return { re, codes: codes('ok') };
  if (state === 'anon' && type !== Req.REGISTER && type !== Req.LOGIN && type !== Req.RESUME) return { re, codes: codes('unauthenticated') };
  if (state === 'authed' && (type === Req.LOGIN || type === Req.RESUME)) return { re, codes: codes('bad_request') };
  if (!REQUIRED[type]!.every((f) => validField(body, f))) return { re, codes: codes('bad_request') };
  // Optional fields of the wrong form are bad_request too; a body with good fields may still be.
  return { re, codes: new Set([...OUTCOMES[type]!, 'bad_request']) };
}

// ── broken streams ───────────────────────────────────────────────────────────────────────────────

const objectBody = fc.constantFrom('{"id":1}', '{}', '{"id":"x","text":"y"}');

/** The thing that ends a stream's framing (or leaves it cut short). */
export const breakage: fc.Arbitrary<{ name: string; bytes: Uint8Array }> = fc.oneof(
  fc.constant({ name: 'length 0', bytes: header(0) }),
  fc.constant({ name: 'length 65,537', bytes: header(MAX_FRAME + 1) }),
  fc.constant({ name: 'length 2^32-1', bytes: header(0xffffffff) }),
  fc.integer({ min: MAX_FRAME + 1, max: 0xffffffff }).map((n) => ({ name: `length ${n}`, bytes: header(n) })),
  fc
    .constantFrom([0xff], [0xfe, 0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82])
    .map((bad) => ({ name: 'invalid UTF-8', bytes: frameBytes(Req.PING, Buffer.concat([Buffer.from('{"id":"'), Buffer.from(bad), Buffer.from('"}')])) })),
  fc
    .constantFrom('[]', '[1,2]', '"text"', '42', 'null', 'true', '{"id":1', '', ' ', '{"a":}', '{,}', 'nul')
    .map((json) => ({ name: `not an object: ${json}`, bytes: frameBytes(Req.PING, json) })),
  fc
    .tuple(fc.oneof(fc.constant(0), fc.integer({ min: Req.PASSWORD + 1, max: 0xff })), objectBody)
    .map(([type, json]) => ({ name: `type 0x${type.toString(16)}`, bytes: frameBytes(type, json) })),
  fc.uint8Array({ minLength: 1, maxLength: 300 }).map((bytes) => ({ name: 'random bytes', bytes })),
  fc
    .tuple(requestCase, fc.nat())
    .map(([c, cut]) => {
      const whole = frameBytes(c.type, c.json);
      return { name: 'frame cut short', bytes: whole.subarray(0, cut % whole.length) };
    }),
);

export interface StreamCase {
  /** Good PINGs sent first (they must be answered before the error). */
  before: number;
  breakage: { name: string; bytes: Uint8Array };
}

export const streamCase: fc.Arbitrary<StreamCase> = fc.record({ before: fc.integer({ min: 0, max: 4 }), breakage });

// ── running a case against a server ─────────────────────────────────────────────────────────────

/** A raw connection that collects every frame, in order, with its own reference parser. */
class RawConnection {
  private buf = Buffer.alloc(0);
  readonly frames: WireFrame[] = [];
  closed = false;
  private waiters: Array<() => void> = [];
  readonly done: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      for (;;) {
        if (this.buf.length < 4) break;
        const n = this.buf.readUInt32BE(0);
        if (this.buf.length < 4 + n) break;
        const type = this.buf[4]!;
        this.frames.push({ type, body: JSON.parse(this.buf.subarray(5, 4 + n).toString('utf8')) });
        this.buf = this.buf.subarray(4 + n);
      }
      this.wake();
    });
    socket.on('error', () => {});
    this.done = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        this.wake();
        resolve();
      }),
    );
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => {
        s.off('error', reject);
        resolve(new RawConnection(s));
      });
      s.once('error', reject);
    });
  }

  /** Replies (OK/ERROR) received so far; pushed frames (MESSAGE, ROOM, …) are skipped. */
  replies(): WireFrame[] {
    return this.frames.filter((f) => f.type === Srv.OK || f.type === Srv.ERROR);
  }

  async until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }
}

function describeReply(f: WireFrame | undefined): string {
  return f ? `${f.type === Srv.OK ? 'OK' : 'ERROR'} ${JSON.stringify(f.body).slice(0, 200)}` : 'nothing';
}

let userCounter = 0;

/**
 * One session of hostile requests on a fresh connection (logged in first when `authed`), all in one
 * write, then a PING. Throws when a reply is missing, out of order, or not the documented one.
 */
export async function runSession(port: number, cases: RequestCase[], authed: boolean, timeoutMs = 20_000): Promise<number> {
  const c = await RawConnection.open(port);
  try {
    const parts: Buffer[] = [];
    const expected: Expected[] = [];
    let state: SessionState = 'anon';
    if (authed) {
      const user = `fz_${process.pid % 100_000}_${++userCounter}`;
      parts.push(frameBytes(Req.REGISTER, JSON.stringify({ id: 'r', user, password: 'fuzz password' })));
      parts.push(frameBytes(Req.LOGIN, JSON.stringify({ id: 'l', user, password: 'fuzz password' })));
      expected.push({ re: 'r', codes: codes('ok') }, { re: 'l', codes: codes('ok') });
      state = 'authed';
    }
    for (const rc of cases) {
      const body = JSON.parse(rc.json) as Record<string, unknown>;
      const e = expectedReply(state, rc.type, body);
      // A LOGIN that could succeed would change the state for what follows: never generate one.
      if (state === 'anon' && rc.type === Req.LOGIN && e.codes.has('ok')) e.codes = codes('auth_failed', 'rate_limited', 'bad_request');
      parts.push(frameBytes(rc.type, rc.json));
      expected.push(e);
    }
    parts.push(frameBytes(Req.PING, '{"id":"end"}'));
    expected.push({ re: 'end', codes: codes('ok') });
    c.socket.write(Buffer.concat(parts));
    await c.until(() => c.replies().length >= expected.length || c.closed, timeoutMs, `${expected.length} replies`);
    const replies = c.replies();
    for (let i = 0; i < expected.length; i++) {
      const e = expected[i]!;
      const r = replies[i];
      const code = r?.type === Srv.OK ? 'ok' : String(r?.body.code);
      const sent = i < (authed ? 2 : 0) ? '(login)' : i - (authed ? 2 : 0) < cases.length ? `0x${cases[i - (authed ? 2 : 0)]!.type.toString(16)} ${cases[i - (authed ? 2 : 0)]!.json.slice(0, 200)}` : 'PING end';
      if (!r || r.body.re !== e.re || !e.codes.has(code)) {
        throw new Error(`request ${i} ${sent}: expected re=${JSON.stringify(e.re)} with ${[...e.codes].join('|')}, got ${describeReply(r)}`);
      }
      if (r.type === Srv.ERROR && typeof r.body.message !== 'string') throw new Error(`request ${i}: ERROR without a message`);
    }
    if (c.closed) throw new Error('the server closed a connection that broke no framing rule');
    return expected.length - (authed ? 2 : 0);
  } finally {
    c.socket.destroy();
    await c.done;
  }
}

/** A few good PINGs, then a breakage: the PINGs answered, then bad_frame and close (or, cut short, no error). */
export async function runStream(port: number, sc: StreamCase, timeoutMs = 10_000): Promise<number> {
  const c = await RawConnection.open(port);
  try {
    const pings = Array.from({ length: sc.before }, (_, i) => frameBytes(Req.PING, JSON.stringify({ id: i })));
    const bytes = Buffer.concat([...pings, sc.breakage.bytes]);
    // What the server must see: the reference parse of the whole stream.
    const ref = referenceParse(bytes);
    let answered = 0;
    let bad = ref.end === 'bad';
    for (const f of ref.frames) {
      if (f.type < Req.REGISTER || f.type > Req.PING) {
        bad = true; // not a request type: the framing is lost from here
        break;
      }
      answered++;
    }
    c.socket.write(bytes);
    if (bad) {
      await c.until(() => c.closed, timeoutMs, `the server to close after bad_frame (${sc.breakage.name})`);
      const replies = c.replies();
      const last = replies.at(-1);
      if (replies.length !== answered + 1 || last?.type !== Srv.ERROR || last.body.code !== 'bad_frame' || 're' in last.body) {
        throw new Error(`${sc.breakage.name}: expected ${answered} replies then bad_frame without re, got ${replies.map(describeReply).join(' / ')}`);
      }
      for (let i = 0; i < sc.before; i++) {
        if (replies[i]!.type !== Srv.OK || replies[i]!.body.re !== i) throw new Error(`${sc.breakage.name}: PING ${i} answered ${describeReply(replies[i])}`);
      }
    } else {
      // Cut short (or clean): everything before is answered and the connection stays open …
      await c.until(() => c.replies().length >= answered || c.closed, timeoutMs, `${answered} replies (${sc.breakage.name})`);
      if (c.closed) throw new Error(`${sc.breakage.name}: the server closed a connection whose framing was intact`);
      if (c.replies().some((f) => f.body.code === 'bad_frame')) throw new Error(`${sc.breakage.name}: bad_frame for an intact stream`);
      // … until the client leaves, mid-frame: then the server lets go of it too.
      c.socket.end();
      await c.until(() => c.closed, timeoutMs, `the server to close after the client ended (${sc.breakage.name})`);
    }
    return sc.before + 1;
  } finally {
    c.socket.destroy();
    await c.done;
  }
}

export interface FuzzOptions {
  /** Ports of the reactors (cases are dealt round-robin). */
  ports: number[];
  /** Frames to send in all, at least. */
  frames: number;
  seed?: number;
  /** Hostile requests per session (one write). */
  perSession?: number;
  /** Connections fuzzed at the same time. */
  parallel?: number;
  onProgress?: (frames: number) => void;
}

/**
 * Sends at least `frames` fuzzed frames: nine sessions of hostile requests (a third of them logged
 * in) for each broken stream. Throws on the first case whose outcome is not the documented one,
 * naming the seed to replay it.
 */
export async function fuzzServer(options: FuzzOptions): Promise<{ frames: number; sessions: number; streams: number; seed: number }> {
  const seed = options.seed ?? (Date.now() ^ (process.pid << 8)) >>> 0;
  const perSession = options.perSession ?? 250;
  const parallel = options.parallel ?? 4;
  let frames = 0;
  let sessions = 0;
  let streams = 0;
  let round = 0;
  const lane = async (laneNo: number): Promise<void> => {
    while (frames < options.frames) {
      const n = round++;
      const port = options.ports[n % options.ports.length]!;
      const runSeed = (seed + n * 7919 + laneNo) | 0;
      try {
        if (n % 10 === 9) {
          const cases = fc.sample(streamCase, { numRuns: 20, seed: runSeed });
          for (const sc of cases) {
            const sent = await runStream(port, sc); // (not `frames += await …`: the lanes interleave)
            frames += sent;
          }
          streams += cases.length;
        } else {
          const cases = fc.sample(requestCase, { numRuns: perSession, seed: runSeed });
          const sent = await runSession(port, cases, n % 3 === 1);
          frames += sent;
          sessions++;
        }
      } catch (err) {
        throw new Error(`fuzz case failed (seed ${seed}, round ${n}, run seed ${runSeed}): ${(err as Error).message}`);
      }
      options.onProgress?.(frames);
    }
  };
  await Promise.all(Array.from({ length: parallel }, (_, i) => lane(i)));
  return { frames, sessions, streams, seed };
}
