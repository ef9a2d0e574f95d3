// Plays one story against a stage server in its own virtual-clock kernel and compares, after every
// step, what each client received and which fds the server holds with what the model says.
// Returns the first difference, in words, or null when the server did everything right.
import { DEFAULT_RCVBUF, DEFAULT_SNDBUF, FD_SETSIZE, RLIMIT_NOFILE } from '#kernel/index.ts';
import { FrameDecoder, FrameError, type Frame } from '#server/protocol/frame.ts';
import { StageRun, type Client } from '../grading.ts';
import type { RunServer } from '../server-options.ts';
import { canonical, plan, sourceOf, type Expected, type ModelClient, type Plan, type PlannedStep } from './model.ts';
import { SlowReader } from './slow-reader.ts';
import { MAX_SAY, MAX_TIGHT_SAY, type Story } from './story.ts';

/** Socket buffers of a story with tight buffers: every burst is larger than they are. */
export const TIGHT_BUFFER_BYTES = 512;
/**
 * maxOutboundBytes: above what one step can owe a reading client (so only clients that never read
 * are dropped), low enough that a few bursts drop one that never reads.
 */
export const MAX_OUTBOUND_BYTES = { roomy: 16 * 1024, tight: 3 * 1024 } as const;
/** Virtual ms a step may take beyond its dripped bytes before the runner stops waiting. */
const STEP_WAIT_MS = 3_000;

export interface RunOptions {
  /** The server refuses fds ≥ FD_SETSIZE (select): stories may start right below that wall. */
  wall?: boolean;
  /** The server refuses clients at its fd limit (EMFILE): stories may lower the limit. */
  limit?: boolean;
}

export interface Failure {
  /** Index of the step after which it went wrong; -1 before the first step, steps.length when stopping. */
  step: number;
  problem: string;
}

export interface StoryResult {
  plan: Plan;
  failure: Failure | null;
}

export async function runStory(runServer: RunServer, story: Story, options: RunOptions = {}): Promise<StoryResult> {
  const tight = story.buffers === 'tight';
  const run = new StageRun(runServer, {
    sndbuf: tight ? TIGHT_BUFFER_BYTES : DEFAULT_SNDBUF,
    rcvbuf: tight ? TIGHT_BUFFER_BYTES : DEFAULT_RCVBUF,
    maxOutboundBytes: MAX_OUTBOUND_BYTES[story.buffers],
    seed: 7,
  });
  const empty: Plan = { steps: [], clients: [] };
  try {
    const started = await settle(run);
    if (started) return { plan: empty, failure: { step: -1, problem: started } };
    // Near the wall: fds the process already holds (as if opened by a library) push the clients up.
    if (options.wall && story.nearWall !== null) {
      const target = FD_SETSIZE - story.nearWall;
      for (let fd = run.proc.socket(0); fd >= 0 && fd < target - 1; fd = run.proc.socket(0));
    }
    const baseFds = run.proc.openFds();
    // At the fd limit: as `prlimit --nofile` would, lower the running server's limit so that only
    // story.fdLimit fds are left for clients.
    let limit: number | null = null;
    if (options.limit && story.fdLimit != null) {
      limit = limitLeaving(baseFds, story.fdLimit);
      const set = run.proc.setrlimit(RLIMIT_NOFILE, { soft: limit, hard: limit });
      if (set < 0) throw new Error(`scenario setup: setrlimit(RLIMIT_NOFILE, ${limit}) failed (${set})`);
    }
    const storyPlan = plan(story, {
      baseFds,
      wall: options.wall ? FD_SETSIZE : null,
      limit,
      capacity: (tight ? TIGHT_BUFFER_BYTES : DEFAULT_SNDBUF) + (tight ? TIGHT_BUFFER_BYTES : DEFAULT_RCVBUF),
      maxOutbound: MAX_OUTBOUND_BYTES[story.buffers],
      maxSay: tight ? MAX_TIGHT_SAY : MAX_SAY,
    });
    // Fds reserved near the wall are not the server's to close.
    const failure = await play(run, storyPlan, !(options.wall && story.nearWall !== null));
    return { plan: storyPlan, failure };
  } finally {
    if (!run.stopped && !run.crashed) await run.dispose();
  }
}

/** The fd limit that leaves exactly `free` fd numbers unused below it. */
export function limitLeaving(used: number[], free: number): number {
  const taken = new Set(used);
  let left = free;
  for (let fd = 0; ; fd++) {
    if (taken.has(fd)) continue;
    if (--left === 0) return fd + 1;
  }
}

async function play(run: StageRun, storyPlan: Plan, checkStop: boolean): Promise<Failure | null> {
  const slow = new Map<number, SlowReader>();
  try {
    return await playSteps(run, storyPlan, checkStop, slow);
  } finally {
    for (const reader of slow.values()) reader.stop(); // their timers would keep the clock busy
  }
}

async function playSteps(run: StageRun, storyPlan: Plan, checkStop: boolean, slow: Map<number, SlowReader>): Promise<Failure | null> {
  const sims = new Map<number, Client>();
  const received = (id: number) => (slow.get(id) ?? sims.get(id)!).received;
  const seen = new Map<number, Expected[]>(); // every frame each reading client must have by now
  const gone = new Set<number>();
  const inboxes = new Map<number, Inbox>();
  const framesOf = (id: number): Frame[] => inboxes.get(id)!.read(received(id));
  const { steps, clients } = storyPlan;

  for (const [i, step] of steps.entries()) {
    for (const act of step.acts) {
      if (act.op === 'pause') {
        try {
          await run.idle(act.ms);
        } catch (err) {
          return { step: i, problem: firstLine(err) };
        }
      } else if (act.op === 'open') {
        const sim = run.open(act.kind === 'reader' ? undefined : act.kind === 'slow-reader' ? 'never-reads' : act.kind);
        sims.set(act.client, sim);
        if (act.kind === 'slow-reader') slow.set(act.client, new SlowReader(run.kernel, sim));
        inboxes.set(act.client, new Inbox());
        seen.set(act.client, []);
      } else if (act.op === 'spurious') {
        for (const fd of act.fds) run.kernel.spuriousReadable(run.proc, fd);
        if (act.listener) {
          const listener = run.proc.openFds().find((fd) => {
            const file = run.proc.fds.get(fd) as { kind?: string; state?: string } | undefined;
            return file?.kind === 'socket' && file.state === 'listen';
          });
          if (listener !== undefined) run.kernel.spuriousReadable(run.proc, listener);
        }
      } else if (act.op === 'send') {
        const sim = sims.get(act.client)!;
        for (const [k, chunk] of act.chunks.entries()) {
          if (k > 0) {
            const spin = await settle(run);
            if (spin) return { step: i, problem: spin };
          }
          (slow.get(act.client) ?? sim).send(chunk);
        }
      } else {
        slow.get(act.client)?.flushPending();
        if (act.how === 'close') sims.get(act.client)!.close();
        else if (act.how === 'half-close') sims.get(act.client)!.shutdownWrite();
        else sims.get(act.client)!.reset();
      }
    }
    const before = new Map([...seen].map(([id, list]) => [id, list.length]));
    for (const [id, list] of step.frames) seen.get(id)!.push(...list);
    const readers = [...seen.keys()].filter((id) => !gone.has(id) && !step.departing.has(id) && clients[id]!.kind !== 'never-reads');

    const arrived = (): boolean => {
      try {
        if (!readers.every((id) => framesOf(id).length >= seen.get(id)!.length)) return false;
        for (const [id, must] of step.departing) {
          if (must.length && framesOf(id).length < before.get(id)! + must.length) return false;
        }
      } catch {
        return true; // undecodable bytes: compare now and say so
      }
      return sameFds(run.proc.openFds(), step.fds);
    };
    try {
      await run.waitFor(arrived, 'the step to complete', STEP_WAIT_MS + 2 * step.dripBytes);
    } catch (err) {
      if (run.crashed !== null || run.stopped || /never went to sleep/.test(String(err))) {
        return { step: i, problem: firstLine(err) };
      }
      // Timed out: the comparison below says what is missing.
    }

    for (const id of readers) {
      const problem = compareStream(clients[id]!, framesOf, id, seen.get(id)!, before.get(id) ?? 0);
      // A missing PRESENCE leave has two causes: the room was not told, or the server never saw the
      // peer go (it still holds its fd: the read that returns 0 never happened). Say which.
      const fds = problem && /PRESENCE \S+ leave/.test(problem) ? compareFds(run.proc.openFds(), step.fds, clients) : null;
      if (problem) return { step: i, problem: fds ? `${problem}, and ${fds}` : problem };
    }
    for (const [id, must] of step.departing) {
      gone.add(id);
      if (!sims.has(id) || must.length === 0) continue;
      const got = safeFrames(framesOf, id).slice(before.get(id) ?? 0).map(toExpected);
      for (const m of must) {
        if (!got.some((g) => g.canon === m.canon)) {
          return { step: i, problem: `${clients[id]!.label} should have received ${m.canon} before the server hung up, but got ${list(got)}` };
        }
      }
    }
    const fdProblem = compareFds(run.proc.openFds(), step.fds, clients);
    if (fdProblem) return { step: i, problem: fdProblem };
  }

  for (const reader of slow.values()) reader.stop();
  try {
    await run.stop();
  } catch (err) {
    return { step: steps.length, problem: firstLine(err) };
  }
  const left = run.openFds();
  if (checkStop && left.length > 0) {
    return { step: steps.length, problem: `after runServer resolved, fds ${left.join(', ')} were still open: close every fd you opened` };
  }
  return null;
}

/** Lets everything runnable run; returns the complaint if the server crashed or spins. */
async function settle(run: StageRun): Promise<string | null> {
  try {
    await run.kernel.settle();
  } catch (err) {
    return `the server never went to sleep: its loop spins (${firstLine(err)})`;
  }
  if (run.crashed !== null) return `the server crashed: ${firstLine(run.crashed)}`;
  return null;
}

function compareStream(c: ModelClient, framesOf: (id: number) => Frame[], id: number, all: Expected[], from: number): string | null {
  let frames: Frame[];
  try {
    frames = framesOf(id);
  } catch (err) {
    return `${c.label} received bytes that are not wizz frames (${err instanceof FrameError ? err.message : String(err)})`;
  }
  const got = frames.slice(from).map(toExpected);
  const want = all.slice(from);
  const bySource = (xs: Expected[]) => {
    const m = new Map<string, Expected[]>();
    for (const x of xs) m.set(x.source, [...(m.get(x.source) ?? []), x]);
    return m;
  };
  const g = bySource(got);
  const w = bySource(want);
  const same = (a: Expected | undefined, b: Expected | undefined) =>
    a !== undefined && b !== undefined && (a.canon === b.canon || (b.loose === true && reOf(a.canon) === reOf(b.canon)));
  for (const source of new Set([...w.keys(), ...g.keys()])) {
    const gs = (g.get(source) ?? []).map((x) => x.canon);
    const ws = (w.get(source) ?? []).map((x) => x.canon);
    const wx = w.get(source) ?? [];
    const gx = g.get(source) ?? [];
    for (let k = 0; k < Math.max(gs.length, ws.length); k++) {
      if (same(gx[k], wx[k])) continue;
      const what = source === 'reply' ? 'the replies to its own requests' : source.startsWith('room:') ? `the messages from ${source.slice(5)}` : `the presence of ${source.slice(9)}`;
      if (ws[k] === undefined) return `${c.label} received an extra frame: ${short(gs[k]!)} (${what}: expected only ${list(ws.map((canon) => ({ source, canon })))})`;
      if (gs[k] === undefined) {
        return `${c.label} never received ${short(ws[k]!)}` + (gs.length ? ` (${what}: it got only ${list(gs.map((canon) => ({ source, canon })))})` : '');
      }
      return `${c.label} received ${short(gs[k]!)} where ${short(ws[k]!)} was due (${what}, in order)`;
    }
  }
  return null;
}

function compareFds(actual: number[], expected: number[], clients: ModelClient[]): string | null {
  if (sameFds(actual, expected)) return null;
  const owner = (fd: number) => clients.filter((c) => c.fd === fd).map((c) => c.label).join('/') || 'nobody';
  const extra = actual.filter((fd) => !expected.includes(fd));
  const missing = expected.filter((fd) => !actual.includes(fd));
  const parts: string[] = [];
  if (extra.length) parts.push(`still holds ${extra.map((fd) => `fd ${fd} (${owner(fd)}, gone)`).join(', ')}: a peer that left must have its fd closed`);
  if (missing.length) parts.push(`closed ${missing.map((fd) => `fd ${fd} (${owner(fd)})`).join(', ')} of a client that is still connected`);
  return `the server ${parts.join('; and ')}`;
}

/** The request id a reply answers, read from its canonical form. */
function reOf(canon: string): string | null {
  return /"re":("[^"]*")/.exec(canon)?.[1] ?? null;
}

function sameFds(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((fd, k) => fd === b[k]);
}

function safeFrames(framesOf: (id: number) => Frame[], id: number): Frame[] {
  try {
    return framesOf(id);
  } catch {
    return [];
  }
}

function toExpected(f: Frame): Expected {
  return { source: sourceOf(f.type, f.body), canon: canonical(f.type, f.body) };
}

export function short(canon: string, max = 90): string {
  return canon.length > max ? `${canon.slice(0, max - 20)}…(${canon.length.toLocaleString('en-US')} chars)` : canon;
}

function list(xs: Expected[]): string {
  if (xs.length === 0) return 'nothing';
  const shown = xs.slice(0, 4).map((x) => short(x.canon, 60));
  return shown.join(' | ') + (xs.length > 4 ? ` | …${xs.length - 4} more` : '');
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.slice(0, 300);
}

/** Decodes a client's growing bytes once. */
class Inbox {
  private readonly decoder = new FrameDecoder();
  private readonly decoded: Frame[] = [];
  private consumed = 0;
  private broken: unknown = null;

  read(received: Uint8Array): Frame[] {
    if (this.broken !== null) throw this.broken;
    if (received.length > this.consumed) {
      const fresh = received.subarray(this.consumed);
      this.consumed = received.length;
      try {
        this.decoded.push(...this.decoder.push(fresh));
      } catch (err) {
        this.broken = err;
        throw err;
      }
    }
    return this.decoded;
  }
}

export type { PlannedStep };
