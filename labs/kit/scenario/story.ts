// A story: what a handful of clients do to a stage server, step by step — the input of scenario
// grading. Stories are data (so fast-check can generate and shrink them) and refer to clients by
// position among those still connected, so any shorter story fast-check tries still makes sense.
import fc from 'fast-check';

/** How a client behaves for its whole life. */
export type ClientKind = 'reader' | 'slow-reader' | 'never-reads' | 'drip' | 'reset-mid-write';

/** One request a client sends. */
export type Request =
  | { t: 'say'; size: number }
  | { t: 'login' }
  | { t: 'who' }
  | { t: 'join' }
  | { t: 'ping' }
  /** A v1 request the lab chat does not serve (0x03): answered with ERROR bad_request. */
  | { t: 'unserved' };

/** How a client's frames reach the socket: one write per frame with a pause in between, all in one write, or cut mid-frame. */
export type Delivery = 'one-by-one' | 'coalesced' | 'split';

export type Leaving = 'close' | 'half-close' | 'reset';

export type Step =
  /** New clients connect at the same time (the server finds them all in one wake-up). */
  | { do: 'connect'; kinds: ClientKind[] }
  /** A connected client sends requests. `who` picks among the connected clients (modulo). */
  | { do: 'send'; who: number; requests: Request[]; as: Delivery; cut: number }
  /**
   * Several clients send a SAY each at the same moment (many fds ready in one wake-up), for
   * `rounds` rounds: so a client sends again while what it was sent is still queued.
   */
  | { do: 'burst'; who: number[]; size: number; rounds: number }
  /** Clients go away at the same moment. */
  | { do: 'leave'; who: number[]; how: Leaving }
  /** A SAY and then FIN in one go (data then FIN at once): the server reads both in one wake-up. */
  | { do: 'say-and-fin'; who: number; size: number }
  /** A frame header announcing length 0: not a wizz frame. */
  | { do: 'garbage'; who: number }
  /**
   * The kernel's rarer answer: these clients' sockets (and the listener, if `listener`) are reported
   * readable though nothing arrived, and the read() or accept4() that follows says -EAGAIN
   * (Kernel.spuriousReadable; select(2), BUGS). Nothing may change: no frame, no fd closed.
   */
  | { do: 'spurious'; who: number[]; listener: boolean };

/** Socket buffers of the whole emulated host: roomy (kernel defaults) or tight (partial writes everywhere). */
export type Buffers = 'roomy' | 'tight';

export interface Story {
  buffers: Buffers;
  /** Only for servers with an FD_SETSIZE wall: the first client lands this many fds below 1024. */
  nearWall: number | null;
  /**
   * Only for servers that handle the fd limit: once the server is up, its RLIMIT_NOFILE is lowered
   * so that this many fds are left for clients; the next one finds accept4() failing with EMFILE.
   */
  fdLimit?: number | null;
  steps: Step[];
}

export interface StoryOptions {
  /** Generate stories that start a few fds below FD_SETSIZE (select servers). */
  wall?: boolean;
  /** Generate stories where the process runs out of fds (EMFILE) after a few clients. */
  limit?: boolean;
  maxSteps?: number;
}

/** Longest SAY text a story sends (tight buffers make it a burst larger than the socket buffers). */
export const MAX_SAY = 3_000;
/** Longest SAY text with tight buffers: a round of bursts stays under the outbound bound of a reader. */
export const MAX_TIGHT_SAY = 700;
/** Text of a dripping client stays short: it sends one byte per virtual millisecond. */
export const MAX_DRIP_SAY = 24;

/** Lets a shrunk story fall back to the plainest choice (a reader, a short SAY, a connect) when the rest does not matter. */
const shrinkToFirst = { withCrossShrink: true };

const kind: fc.Arbitrary<ClientKind> = fc.oneof(
  shrinkToFirst,
  { weight: 5, arbitrary: fc.constant<ClientKind>('reader') },
  { weight: 3, arbitrary: fc.constant<ClientKind>('slow-reader') },
  { weight: 2, arbitrary: fc.constant<ClientKind>('never-reads') },
  { weight: 1, arbitrary: fc.constant<ClientKind>('drip') },
  { weight: 1, arbitrary: fc.constant<ClientKind>('reset-mid-write') },
);

const size = fc.oneof(
  shrinkToFirst,
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 40 }) },
  { weight: 2, arbitrary: fc.integer({ min: 41, max: MAX_SAY }) },
);

const request: fc.Arbitrary<Request> = fc.oneof(
  shrinkToFirst,
  { weight: 6, arbitrary: size.map((n): Request => ({ t: 'say', size: n })) },
  { weight: 1, arbitrary: fc.constant<Request>({ t: 'login' }) },
  { weight: 1, arbitrary: fc.constant<Request>({ t: 'who' }) },
  { weight: 1, arbitrary: fc.constant<Request>({ t: 'join' }) },
  { weight: 1, arbitrary: fc.constant<Request>({ t: 'ping' }) },
  { weight: 1, arbitrary: fc.constant<Request>({ t: 'unserved' }) },
);

const who = fc.nat({ max: 15 });

const step: fc.Arbitrary<Step> = fc.oneof(
  shrinkToFirst,
  { weight: 4, arbitrary: fc.array(kind, { minLength: 1, maxLength: 4 }).map((kinds): Step => ({ do: 'connect', kinds })) },
  {
    weight: 6,
    arbitrary: fc
      .record({
        who,
        requests: fc.array(request, { minLength: 1, maxLength: 4 }),
        as: fc.constantFrom<Delivery>('one-by-one', 'coalesced', 'split'),
        cut: fc.nat({ max: 1_000_000 }),
      })
      .map((s): Step => ({ do: 'send', ...s })),
  },
  {
    weight: 5,
    arbitrary: fc
      .record({ who: fc.uniqueArray(who, { minLength: 2, maxLength: 4 }), size, rounds: fc.integer({ min: 1, max: 3 }) })
      .map((s): Step => ({ do: 'burst', ...s })),
  },
  {
    weight: 3,
    arbitrary: fc
      .record({ who: fc.uniqueArray(who, { minLength: 1, maxLength: 3 }), how: fc.constantFrom<Leaving>('close', 'half-close', 'reset') })
      .map((s): Step => ({ do: 'leave', ...s })),
  },
  { weight: 2, arbitrary: fc.record({ who, size }).map((s): Step => ({ do: 'say-and-fin', ...s })) },
  { weight: 1, arbitrary: who.map((w): Step => ({ do: 'garbage', who: w })) },
);

/** Spurious readiness, put after step `after` (modulo the story's length). */
const spurious = fc.record({ after: fc.nat({ max: 12 }), who: fc.uniqueArray(who, { minLength: 0, maxLength: 3 }), listener: fc.boolean() });

/** Stories of a few clients and a few steps: small enough to read once shrunk. */
export function stories(options: StoryOptions = {}): fc.Arbitrary<Story> {
  return fc.record({
    buffers: fc.oneof(shrinkToFirst, { weight: 1, arbitrary: fc.constant<Buffers>('roomy') }, { weight: 2, arbitrary: fc.constant<Buffers>('tight') }),
    // A quarter of the stories start at the wall: each holds a thousand fds, so they cost more.
    nearWall: options.wall
      ? fc.oneof(shrinkToFirst, { weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }) })
      : fc.constant(null),
    // Most stories open with clients already there; the shrinker may drop that step.
    steps: fc
      .tuple(
        fc.array(kind, { minLength: 2, maxLength: 4 }).map((kinds): Step => ({ do: 'connect', kinds })),
        fc.array(step, { minLength: 1, maxLength: options.maxSteps ?? 10 }),
      )
      .map(([first, rest]) => [first, ...rest]),
    // A quarter of the stories run at the fd limit: room for 1–4 clients, the next one hits EMFILE.
    // Drawn last, so the other stories of a seed stay what they were before the limit existed.
    fdLimit: options.limit
      ? fc.oneof(shrinkToFirst, { weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 4 }) })
      : fc.constant(null),
    // The kernel's rarer answer, in about half the stories: readiness that the next read() or
    // accept4() does not honour. Drawn last as well, and put between the steps drawn above.
    spurious: fc.array(spurious, { maxLength: 2 }),
  }).map(({ spurious: extra, ...story }): Story => {
    const steps = [...story.steps];
    for (const s of [...extra].sort((a, b) => b.after - a.after)) {
      steps.splice(1 + (s.after % steps.length), 0, { do: 'spurious', who: s.who, listener: s.listener });
    }
    return { ...story, steps };
  });
}
