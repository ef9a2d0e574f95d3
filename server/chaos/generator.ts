// The generator: a plan is a list of steps — client requests (sent normally, dropped right after
// writing, or followed by a half-close), connection actions (close, reconnect, a reader that stops
// and resumes) and faults by name — over a few users who share sessions on purpose. Field values
// cover what the field rules allow: names of 3 and 24 characters, texts of 1 to 4,000 code points of
// every class (emoji, astral, right-to-left, control characters), keys of 1 and 64 characters, ids as
// numbers (negative, fractional) and strings (up to 128 units). fast-check builds and shrinks plans.
//
// A request kind is one entry of REQUEST_KINDS: its weight, its arbitrary, and how its body is built.
import fc from 'fast-check';
import { Req } from '../protocol/codes.ts';
import type { How } from './history.ts';

export const SLOTS = 4;
export const USERS = 3;
export const ROOMS = 2;

export type IdForm = 'num' | 'str' | 'long' | 'neg' | 'frac' | 'numstr' | 'emoji';
export type TextClass = 'ascii' | 'emoji' | 'astral' | 'rtl' | 'control' | 'mixed';
export interface TextSpec {
  cls: TextClass;
  /** Code points, 1–4,000. */
  len: number;
}

export type ReqSpec =
  | { type: 'REGISTER'; user: number }
  | { type: 'LOGIN'; user: number; wrong: boolean }
  | { type: 'RESUME' }
  | { type: 'SEND'; to: number; text: TextSpec; key: number | null }
  | { type: 'WIZZ'; to: number }
  | { type: 'JOIN'; room: number }
  | { type: 'LEAVE'; room: number }
  | { type: 'SAY'; room: number; text: TextSpec }
  | { type: 'WHO'; room: number | null }
  | { type: 'HISTORY'; with: number; limit: number | null; before: boolean }
  | { type: 'PING' };

export type Step =
  | { do: 'req'; slot: number; req: ReqSpec; id: IdForm; how: How; /** ms to wait for the reply before the next step */ wait: number }
  | { do: 'close' | 'pause' | 'resume'; slot: number }
  | { do: 'reconnect'; slot: number; host: number }
  | { do: 'fault'; fault: string; which: number; ms: number }
  | { do: 'sleep'; ms: number };

export interface Plan {
  /** Length of each user's name (3–24). */
  nameLengths: number[];
  steps: Step[];
}

/** What building a request body needs from the run (names, tokens, what the client saw). */
export interface BuildContext {
  user(i: number): string;
  /** A name that exists nowhere (for no_such_user). */
  stranger: string;
  room(i: number): string;
  /** A text unique in this run: its first code point is new, the rest follows the spec. */
  text(spec: TextSpec): string;
  key(i: number): string;
  /** The token the slot's last LOGIN returned, if any. */
  token(slot: number): string | undefined;
  /** The smallest msgId this slot has seen in a HISTORY reply (for `before`). */
  oldestSeen(slot: number): number | undefined;
}

export const PASSWORD = 'chaos-password';

const user = fc.integer({ min: 0, max: USERS - 1 });
const room = fc.integer({ min: 0, max: ROOMS - 1 });
const textSpec: fc.Arbitrary<TextSpec> = fc.record({
  cls: fc.constantFrom<TextClass>('ascii', 'emoji', 'astral', 'rtl', 'control', 'mixed'),
  len: fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: 1, max: 40 }) },
    { weight: 1, arbitrary: fc.constantFrom(1, 4_000) },
    { weight: 1, arbitrary: fc.integer({ min: 41, max: 4_000 }) },
  ),
});

export interface RequestKind {
  name: ReqSpec['type'];
  weight: number;
  arbitrary: fc.Arbitrary<ReqSpec>;
  /** The request body without `id`, or null when the client cannot send it now (RESUME without a token). */
  body(spec: ReqSpec, slot: number, ctx: BuildContext): Record<string, unknown> | null;
}

export const REQUEST_KINDS: RequestKind[] = [
  {
    name: 'REGISTER',
    weight: 1,
    arbitrary: fc.record({ type: fc.constant('REGISTER' as const), user }),
    body: (s, _slot, ctx) => ({ user: ctx.user((s as { user: number }).user), password: PASSWORD }),
  },
  {
    name: 'LOGIN',
    weight: 5,
    arbitrary: fc.record({ type: fc.constant('LOGIN' as const), user, wrong: fc.constant(false) }),
    body: (s, _slot, ctx) => {
      const x = s as { user: number; wrong: boolean };
      return { user: ctx.user(x.user), password: x.wrong ? 'not-the-password' : PASSWORD };
    },
  },
  {
    name: 'SEND',
    weight: 12,
    arbitrary: fc.record({
      type: fc.constant('SEND' as const),
      to: fc.oneof({ weight: 12, arbitrary: user }, { weight: 1, arbitrary: fc.constant(-1) }),
      text: textSpec,
      key: fc.option<number>(fc.integer({ min: 0, max: 3 }), { freq: 2, nil: null }),
    }),
    body: (s, _slot, ctx) => {
      const x = s as Extract<ReqSpec, { type: 'SEND' }>;
      return { to: x.to < 0 ? ctx.stranger : ctx.user(x.to), text: ctx.text(x.text), ...(x.key === null ? {} : { key: ctx.key(x.key) }) };
    },
  },
  {
    name: 'WIZZ',
    weight: 1,
    arbitrary: fc.record({ type: fc.constant('WIZZ' as const), to: user }),
    body: (s, _slot, ctx) => ({ to: ctx.user((s as { to: number }).to) }),
  },
  {
    name: 'JOIN',
    weight: 4,
    arbitrary: fc.record({ type: fc.constant('JOIN' as const), room }),
    body: (s, _slot, ctx) => ({ room: ctx.room((s as { room: number }).room) }),
  },
  {
    name: 'LEAVE',
    weight: 2,
    arbitrary: fc.record({ type: fc.constant('LEAVE' as const), room }),
    body: (s, _slot, ctx) => ({ room: ctx.room((s as { room: number }).room) }),
  },
  {
    name: 'SAY',
    weight: 6,
    arbitrary: fc.record({ type: fc.constant('SAY' as const), room, text: textSpec }),
    body: (s, _slot, ctx) => {
      const x = s as Extract<ReqSpec, { type: 'SAY' }>;
      return { room: ctx.room(x.room), text: ctx.text(x.text) };
    },
  },
  {
    name: 'WHO',
    weight: 2,
    arbitrary: fc.record({ type: fc.constant('WHO' as const), room: fc.option<number>(room, { nil: null }) }),
    body: (s, _slot, ctx) => {
      const x = s as Extract<ReqSpec, { type: 'WHO' }>;
      return x.room === null ? {} : { room: ctx.room(x.room) };
    },
  },
  {
    name: 'HISTORY',
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('HISTORY' as const),
      with: user,
      limit: fc.option<number>(fc.constantFrom(1, 2, 100, 1_000), { nil: null }),
      before: fc.boolean(),
    }),
    body: (s, slot, ctx) => {
      const x = s as Extract<ReqSpec, { type: 'HISTORY' }>;
      const before = x.before ? ctx.oldestSeen(slot) : undefined;
      return { with: ctx.user(x.with), ...(x.limit === null ? {} : { limit: x.limit }), ...(before === undefined ? {} : { before }) };
    },
  },
  {
    name: 'PING',
    weight: 2,
    arbitrary: fc.constant({ type: 'PING' as const }),
    body: () => ({}),
  },
];

// RESUME (a session token from LOGIN, issue 19) joins the plan as soon as the protocol has it.
if ('RESUME' in Req) {
  REQUEST_KINDS.push({
    name: 'RESUME',
    weight: 3,
    arbitrary: fc.constant({ type: 'RESUME' as const }),
    body: (_s, slot, ctx) => {
      const token = ctx.token(slot);
      return token === undefined ? null : { token };
    },
  });
}

/** Wrong passwords: a LOGIN with a wrong password, rarely (the failed-login limit is per address). */
const wrongLogin = fc.record({ type: fc.constant('LOGIN' as const), user, wrong: fc.constant(true) });

export function typeByte(name: ReqSpec['type']): number {
  return (Req as Record<string, number>)[name]!;
}

export function kindOf(name: ReqSpec['type']): RequestKind {
  return REQUEST_KINDS.find((k) => k.name === name)!;
}

const request: fc.Arbitrary<ReqSpec> = fc.oneof(
  ...REQUEST_KINDS.map((k) => ({ weight: k.weight, arbitrary: k.arbitrary })),
  { weight: 1, arbitrary: wrongLogin },
);

const idForm = fc.oneof(
  { weight: 6, arbitrary: fc.constant<IdForm>('num') },
  { weight: 4, arbitrary: fc.constantFrom<IdForm>('str', 'long', 'neg', 'frac', 'numstr', 'emoji') },
);

/** Plans for a target with these faults and hosts. */
export function planArbitrary(options: { faults: string[]; hosts: number; maxSteps?: number; /** every plan has at least one fault step */ mustFault?: boolean }): fc.Arbitrary<Plan> {
  const slot = fc.integer({ min: 0, max: SLOTS - 1 });
  const steps: Array<fc.WeightedArbitrary<Step>> = [
    {
      weight: 40,
      arbitrary: fc.record({
        do: fc.constant('req' as const),
        slot,
        req: request,
        id: idForm,
        how: fc.oneof({ weight: 14, arbitrary: fc.constant<How>('normal') }, { weight: 1, arbitrary: fc.constantFrom<How>('drop', 'halfclose') }),
        wait: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(0, 5, 50) }, { weight: 5, arbitrary: fc.constant(400) }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ do: fc.constantFrom('close' as const, 'pause' as const, 'resume' as const), slot }) },
    { weight: 2, arbitrary: fc.record({ do: fc.constant('reconnect' as const), slot, host: fc.integer({ min: 0, max: options.hosts - 1 }) }) },
    { weight: 1, arbitrary: fc.record({ do: fc.constant('sleep' as const), ms: fc.constantFrom(100, 500, 1_500) }) },
  ];
  const faultOf = (fault: fc.Arbitrary<string>): fc.Arbitrary<Step> =>
    fc.record({ do: fc.constant('fault' as const), fault, which: fc.nat({ max: 7 }), ms: fc.constantFrom(200, 800, 2_500) });
  const faultStep: fc.Arbitrary<Step> | undefined = options.faults.length === 0 ? undefined : faultOf(fc.constantFrom(...options.faults));
  if (faultStep) steps.push({ weight: 3, arbitrary: faultStep });
  // Most steps need a session: a prologue logs most slots in (ordinary steps, so they shrink away).
  const prologue = fc.tuple(
    ...Array.from({ length: SLOTS }, (_, slot) =>
      fc.option(
        fc.record({ do: fc.constant('req' as const), slot: fc.constant(slot), req: fc.record({ type: fc.constant('LOGIN' as const), user, wrong: fc.constant(false) }), id: idForm, how: fc.constant<How>('normal'), wait: fc.constant(400) }),
        { freq: 5, nil: null },
      ),
    ),
  ).map((xs) => xs.filter((x): x is NonNullable<typeof x> => x !== null) as Step[]);
  const body = fc.array(fc.oneof(...steps), { minLength: 1, maxLength: options.maxSteps ?? 50, size: 'max' });
  return fc.record({
    nameLengths: fc.array(fc.oneof(fc.constantFrom(3, 24), fc.integer({ min: 3, max: 24 })), { minLength: USERS, maxLength: USERS }),
    steps:
      options.mustFault && faultStep
        ? // every listed fault once, in the first half: the rest of the history shows what it left behind
          fc
            .tuple(prologue, body, fc.tuple(...options.faults.map((f) => fc.tuple(faultOf(fc.constant(f)), fc.nat()))))
            .map(([p, b, musts]) => {
              const out = [...b];
              for (const [f, at] of musts) out.splice(at % (Math.floor(out.length / 2) + 1), 0, f);
              return [...p, ...out];
            })
        : fc.tuple(prologue, body).map(([p, b]) => [...p, ...b]),
  });
}

// ---- field values --------------------------------------------------------------------------

/** Fillers per class, as code points; a text is its unique first code point plus these, cycled. */
const FILLERS: Record<TextClass, string[]> = {
  ascii: [...'hello, world 0123 ~!@{}"\\'],
  emoji: [...'👋🎉😀🚀❤️🧑‍💻'], // includes a ZWJ sequence and a variation selector: several code points
  astral: [...'𝄞𠀀𝒜𐍈🀄'],
  rtl: [...'שלום مرحبا', '\u202e', '\u200f', '\u202b', '\u202c'],
  control: ['\u0000', '\u0001', '\u0007', '\b', '\t', '\n', '\r', '\u001b', '\u007f', '\u0085', '\u2028', '\u2029', '\ufeff'],
  mixed: [...'a👋𝄞ש\n\u001bé\u0301'],
};

/** `len` code points: a first one unique to `seq` (CJK ideographs, 20,000 of them), then the class's fillers. */
export function makeText(seq: number, spec: TextSpec): string {
  const first = String.fromCodePoint(0x4e00 + (seq % 20_000));
  const filler = FILLERS[spec.cls];
  let out = first;
  for (let i = 1; i < spec.len; i++) out += filler[i % filler.length]!;
  return out;
}

/** Keys of 1 and 64 characters, ASCII and not; keys belong to their sender, so these are reused across runs safely. */
export const KEYS = ['k', 'é', 'x'.repeat(63) + 'y', '🔑'.repeat(64)];

export function makeId(seq: number, form: IdForm): string | number {
  switch (form) {
    case 'num':
      return seq;
    case 'str':
      return `r${seq}`;
    case 'long':
      return `${seq}:`.padEnd(128, 'z');
    case 'neg':
      return -seq;
    case 'frac':
      return seq + 0.25;
    case 'numstr':
      return String(seq);
    case 'emoji':
      return `🆔${seq}`;
  }
}

/** A name of `len` characters (3–24) from the run's tag and the user index, always valid and unique per run. */
export function makeName(tag: string, index: number, len: number): string {
  const base = `${String.fromCharCode(97 + index)}${tag}`;
  return base.length >= len ? base.slice(0, len) : base.padEnd(len, '_');
}
