// The model of the lab chat: a pure function of a story (and of the few facts of the host it runs
// on) that says, step by step, what the runner does, what every client must receive and which fds
// the server must hold. It follows labs/kit/chat.ts; where a server may legitimately choose an order
// (which of two ready clients to serve first) the model says only what must hold whatever it chose:
// frames are compared per source (the client's own replies, each speaker, each presence) in order.
import { DEFAULT_PRESENCE_LIMIT, LOBBY, MessageType } from '../chat.ts';
import { encodeFrame } from '#server/protocol/frame.ts';
import { MAX_DRIP_SAY, type ClientKind, type Leaving, type Request, type Step, type Story } from './story.ts';

/** Facts of the host a story runs on. */
export interface World {
  /** Every fd the server process holds before the first client (std streams, listener, epoll…). */
  baseFds: number[];
  /** fds from this number up are refused with ERROR server_full (select's FD_SETSIZE), or null. */
  wall: number | null;
  /**
   * The process's fd limit (RLIMIT_NOFILE), or null: a client that would need an fd from this
   * number up finds accept4() failing with EMFILE, and the server refuses it with ERROR server_full
   * (the spare-fd trick) instead of leaving it in the backlog.
   */
  limit?: number | null;
  /** Bytes a client that never reads absorbs in the sockets: the server's sndbuf + its rcvbuf. */
  capacity: number;
  /** The server's bound on one connection's outbound queue (ServerOptions.maxOutboundBytes). */
  maxOutbound: number;
  /** Longest SAY text (shorter with tight buffers). */
  maxSay: number;
}

/** One frame a client must receive. */
export interface Expected {
  /** The source whose frames keep their order: 'reply', 'room:<from>' or 'presence:<user>'. */
  source: string;
  /** What it must be, as compared (timestamps left out). */
  canon: string;
  /** Only its `re` is certain: a member list the server may have taken before or after a drop. */
  loose?: boolean;
}

/** What the runner does to a client. */
export type Act =
  | { op: 'open'; client: number; kind: ClientKind }
  /** Sends these byte arrays with the server given a chance to run between them. */
  | { op: 'send'; client: number; chunks: Uint8Array[] }
  /** Lets `ms` of virtual time pass (slow readers catch up). */
  | { op: 'pause'; ms: number }
  | { op: 'leave'; client: number; how: Leaving }
  /** The kernel reports these server-side fds (and the listener) readable with nothing to read. */
  | { op: 'spurious'; fds: number[]; listener: boolean };

export interface PlannedStep {
  /** The step as a learner reads it, or null when it does nothing (it picked nobody). */
  line: string | null;
  acts: Act[];
  /** New frames each client must receive in this step (clients that keep reading). */
  frames: Map<number, Expected[]>;
  /** Clients that leave (or are dropped) in this step: their later frames are not checked. */
  departing: Map<number, Expected[]>;
  /** Every fd the server must hold once the step is over, ascending. */
  fds: number[];
  /** Bytes dripped one per virtual millisecond in this step (the runner waits that much longer). */
  dripBytes: number;
}

export interface ModelClient {
  id: number;
  label: string;
  kind: ClientKind;
  fd: number | null;
  name: string;
  live: boolean;
  /** Bytes the server owes it (never-reads clients: decides when it is dropped). */
  owed: number;
  /** Frames expected so far (readers). */
  received: number;
  /** The fd it was refused on (past the wall), if it was. */
  refusedAt?: number;
  /** Refused because the process was at its fd limit (EMFILE). */
  refusedAtLimit?: boolean;
}

/** Virtual ms between two rounds of a burst: a slow reader reads 5 KiB meanwhile. */
const ROUND_PAUSE_MS = 40;

/** A 13-digit timestamp: frames carry Date.now(), whose length is all the model needs. */
const TS = 1_700_000_000_000;

export function label(id: number): string {
  const letter = String.fromCharCode(65 + (id % 26));
  return id < 26 ? letter : `${letter}${Math.floor(id / 26)}`;
}

/** Text of `size` characters that says who sent it and which message it was. */
export function sayText(from: string, seq: number, size: number): string {
  const head = `${from}${seq}-`;
  return (head + 'x'.repeat(Math.max(0, size - head.length))).slice(0, size);
}

export interface Plan {
  steps: PlannedStep[];
  /** Every client the story opens, by id (its fd stays recorded after it leaves). */
  clients: ModelClient[];
}

export function plan(story: Story, world: World): Plan {
  const model = new Model(world);
  return { steps: model.run(story.steps), clients: model.clients };
}

class Model {
  readonly clients: ModelClient[] = [];
  /** The room: client id → name, in join order (LOGIN keeps a member's place). */
  private readonly members = new Map<number, string>();
  private step!: PlannedStep;
  private requestSeq = 0;

  constructor(private readonly world: World) {}

  run(steps: Step[]): PlannedStep[] {
    return steps.map((s) => {
      this.step = { line: null, acts: [], frames: new Map(), departing: new Map(), fds: [], dripBytes: 0 };
      this.apply(s);
      this.step.fds = this.fds();
      return this.step;
    });
  }

  private live(): ModelClient[] {
    return this.clients.filter((c) => c.live);
  }

  private pick(who: number): ModelClient | undefined {
    const live = this.live();
    return live.length ? live[who % live.length] : undefined;
  }

  private fds(): number[] {
    const fds = [...this.world.baseFds];
    for (const c of this.clients) if (c.live && c.fd !== null) fds.push(c.fd);
    return fds.sort((a, b) => a - b);
  }

  private apply(s: Step): void {
    switch (s.do) {
      case 'connect': {
        const opened: ModelClient[] = [];
        for (const kind of s.kinds) {
          const live = this.live().length;
          opened.push(this.connect(kind));
          // A join that overflowed a client that never reads frees its fd; whether the next
          // client of the batch gets that number depends on when the server closes it, so the
          // rest of the batch connects once the server has caught up.
          if (this.live().length < live + 1 && opened.length < s.kinds.length) this.step.acts.push({ op: 'pause', ms: 0 });
        }
        this.step.line = opened.map(describeOpen).join(', ') + (opened.length > 1 ? ' connect at once' : ' connects');
        return;
      }
      case 'send': {
        const c = this.pick(s.who);
        if (!c) return;
        if (c.kind === 'reset-mid-write') return this.resetMidWrite(c, s.requests[0] ?? { t: 'ping' });
        // A client that never reads sends one request at a time: were it dropped by the first one's
        // reply, whether the server still handles the rest of that read is its own business.
        const requests = c.kind === 'never-reads' ? s.requests.slice(0, 1) : s.requests;
        const live = this.live().length;
        const frames = requests.map((r) => {
          // A client dropped by an earlier request of this same read may or may not be listed yet:
          // servers legitimately handle the whole read before closing anyone, or close at once.
          const frame = this.request(c, r);
          if (this.live().length < live && (r.t === 'who' || r.t === 'join')) {
            const mine = this.step.frames.get(c.id);
            const last = mine?.[mine.length - 1];
            if (last) last.loose = true;
          }
          return frame;
        });
        const bytes = concat(frames);
        let chunks: Uint8Array[];
        let how: string;
        if (s.as === 'one-by-one' || frames.length === 1 && s.as === 'coalesced') {
          chunks = frames;
          how = frames.length > 1 ? 'one write each' : '';
        } else if (s.as === 'coalesced') {
          chunks = [bytes];
          how = 'in one write';
        } else {
          const at = 1 + (s.cut % Math.max(1, bytes.length - 1));
          chunks = [bytes.subarray(0, at), bytes.subarray(at)];
          how = `in two writes cut at byte ${at}`;
        }
        this.step.acts.push({ op: 'send', client: c.id, chunks });
        if (c.kind === 'drip') this.step.dripBytes += bytes.length;
        this.step.line = `${c.label} sends ${requests.map((r) => describeRequest(r, c, this.world.maxSay)).join(', ')}${how ? ` ${how}` : ''}`;
        return;
      }
      case 'burst': {
        const senders = [...new Set(s.who.map((w) => this.pick(w)).filter((c): c is ModelClient => c !== undefined))];
        // Not those that never read: whether one is dropped before or after its own SAY is read
        // would depend on which ready fd the server serves first.
        const talkers = senders.filter((c) => c.kind !== 'reset-mid-write' && c.kind !== 'never-reads');
        if (talkers.length === 0) return;
        for (let round = 0; round < s.rounds; round++) {
          if (round > 0) this.step.acts.push({ op: 'pause', ms: ROUND_PAUSE_MS });
          for (const c of talkers.filter((t) => t.live)) {
            const frame = this.request(c, { t: 'say', size: s.size });
            this.step.acts.push({ op: 'send', client: c.id, chunks: [frame] });
            if (c.kind === 'drip') this.step.dripBytes += frame.length;
          }
        }
        const times = s.rounds > 1 ? `, ${s.rounds} times` : '';
        this.step.line = `${talkers.map((c) => c.label).join(', ')} each send ${describeRequest({ t: 'say', size: s.size }, undefined, this.world.maxSay)} at the same moment${times}`;
        return;
      }
      case 'leave': {
        const leavers = [...new Set(s.who.map((w) => this.pick(w)).filter((c): c is ModelClient => c !== undefined))];
        if (leavers.length === 0) return;
        for (const c of leavers) {
          this.step.acts.push({ op: 'leave', client: c.id, how: s.how });
          this.depart(c, []);
        }
        const verb = { close: 'close', 'half-close': 'half-close (shutdown SHUT_WR, still reading)', reset: 'reset (RST)' }[s.how];
        this.step.line = `${leavers.map((c) => c.label).join(', ')} ${verb}${leavers.length > 1 ? ' at the same moment' : ''}`;
        return;
      }
      case 'spurious': {
        const picked = [...new Set(s.who.map((w) => this.pick(w)).filter((c): c is ModelClient => c !== undefined && c.fd !== null))];
        if (picked.length === 0 && !s.listener) return;
        this.step.acts.push({ op: 'spurious', fds: picked.map((c) => c.fd!), listener: s.listener });
        const names = [...picked.map((c) => `${c.label}'s socket`), ...(s.listener ? ['the listener'] : [])];
        this.step.line = `the kernel reports ${names.join(' and ')} readable although nothing arrived (the next read() or accept4() says EAGAIN)`;
        return;
      }
      case 'say-and-fin': {
        const c = this.pick(s.who);
        if (!c) return;
        if (c.kind === 'reset-mid-write') return this.resetMidWrite(c, { t: 'say', size: s.size });
        const frame = this.request(c, { t: 'say', size: s.size });
        this.step.acts.push({ op: 'send', client: c.id, chunks: [frame] }, { op: 'leave', client: c.id, how: 'half-close' });
        if (c.kind === 'drip') this.step.dripBytes += frame.length;
        this.depart(c, []); // its OK may be lost when the server hangs up: not required
        this.step.line = `${c.label} sends ${describeRequest({ t: 'say', size: s.size }, c, this.world.maxSay)} and FIN in one go (data then FIN at once)`;
        return;
      }
      case 'garbage': {
        const c = this.pick(s.who);
        // A client that never reads would never get its ERROR, and the server rightly waits to say goodbye.
        if (!c || c.kind === 'never-reads') return;
        this.step.acts.push({ op: 'send', client: c.id, chunks: [new Uint8Array(5)] });
        if (c.kind === 'reset-mid-write') {
          this.depart(c, []);
          this.step.line = `${c.label} sends half of a bad frame header and resets`;
          return;
        }
        if (c.kind === 'drip') this.step.dripBytes += 5;
        const error = { source: 'reply', canon: 'ERROR bad_frame' };
        this.depart(c, [error]);
        this.step.line = `${c.label} sends a frame header of length 0 (not a wizz frame: ERROR bad_frame, then closed)`;
        return;
      }
    }
  }

  private connect(kind: ClientKind): ModelClient {
    const id = this.clients.length;
    const c: ModelClient = { id, label: label(id), kind, fd: null, name: '', live: true, owed: 0, received: 0 };
    this.clients.push(c);
    this.step.acts.push({ op: 'open', client: id, kind });
    const used = new Set(this.fds());
    let fd = 0;
    while (used.has(fd)) fd++;
    c.fd = fd;
    const atLimit = this.world.limit != null && fd >= this.world.limit;
    if (atLimit || (this.world.wall !== null && fd >= this.world.wall)) {
      // Past the wall the server cannot watch this fd; at the fd limit it has none to give (it
      // borrows its spare one). Either way it says so and hangs up; no fd stays taken.
      c.live = false;
      c.fd = null;
      const refusal = kind === 'never-reads' || kind === 'reset-mid-write' ? [] : [{ source: 'reply', canon: 'ERROR server_full' }];
      this.step.departing.set(id, refusal);
      if (atLimit) c.refusedAtLimit = true;
      else c.refusedAt = fd;
      return c;
    }
    c.name = `guest${fd}`;
    this.members.set(id, c.name);
    if (this.members.size <= DEFAULT_PRESENCE_LIMIT) {
      this.toOthers(c, MessageType.PRESENCE, { room: LOBBY, user: c.name, event: 'join' });
    }
    return c;
  }

  /** The client goes away (or is dropped): the server closes its fd and the room says so. */
  private depart(c: ModelClient, mustGet: Expected[]): void {
    if (!c.live) return;
    // What it was owed in this step may or may not reach it before the server hangs up.
    this.step.frames.delete(c.id);
    this.step.departing.set(c.id, mustGet);
    c.live = false;
    if (this.members.has(c.id)) {
      if (this.members.size <= DEFAULT_PRESENCE_LIMIT) {
        this.toOthers(c, MessageType.PRESENCE, { room: LOBBY, user: c.name, event: 'leave' });
      }
      this.members.delete(c.id);
    }
  }

  /** Half a SAY, then RST: no frame ever completes, the client just leaves. */
  private resetMidWrite(c: ModelClient, r: Request): void {
    const frame = this.request(c, r, false);
    this.step.acts.push({ op: 'send', client: c.id, chunks: [frame] });
    this.depart(c, []);
    this.step.line = `${c.label} writes half of ${describeRequest(r, c, this.world.maxSay)} and resets (RST mid-write)`;
  }

  /** Encodes one request from `c` and records what the room answers (unless `handled` is false). */
  private request(c: ModelClient, r: Request, handled = true): Uint8Array {
    const id = `${c.label}.${++this.requestSeq}`;
    switch (r.t) {
      case 'say': {
        const text = sayText(c.label, this.requestSeq, Math.min(r.size, c.kind === 'drip' ? MAX_DRIP_SAY : this.world.maxSay));
        if (handled) {
          this.reply(c, MessageType.OK, { re: id, ts: TS });
          this.toOthers(c, MessageType.ROOM, { room: LOBBY, from: c.name, text, ts: TS });
        }
        return encodeFrame(MessageType.SAY, { id, text });
      }
      case 'login': {
        const user = `${c.label.toLowerCase()}-${this.requestSeq}`;
        if (handled) {
          const was = c.name;
          c.name = user;
          this.members.set(c.id, user);
          this.reply(c, MessageType.OK, { re: id, user, pending: 0 });
          // A new name: the others hear the old one leave and the new one join (chat.ts).
          if (was !== user && this.members.size <= DEFAULT_PRESENCE_LIMIT) {
            this.toOthers(c, MessageType.PRESENCE, { room: LOBBY, user: was, event: 'leave' });
            this.toOthers(c, MessageType.PRESENCE, { room: LOBBY, user, event: 'join' });
          }
        }
        return encodeFrame(MessageType.LOGIN, { id, user, password: 'pw' });
      }
      case 'who':
        if (handled) this.reply(c, MessageType.OK, { re: id, users: [...this.members.values()] });
        return encodeFrame(MessageType.WHO, { id });
      case 'join':
        if (handled) this.reply(c, MessageType.OK, { re: id, room: LOBBY, members: [...this.members.values()] });
        return encodeFrame(MessageType.JOIN, { id, room: LOBBY });
      case 'ping':
        if (handled) this.reply(c, MessageType.OK, { re: id });
        return encodeFrame(MessageType.PING, { id });
      case 'unserved':
        // The message is not compared, but its length counts for a client that never reads.
        if (handled) this.reply(c, MessageType.ERROR, { re: id, code: 'bad_request', message: 'request type 0x03 is not served by the lab chat' });
        return encodeFrame(0x03, { id });
    }
  }

  private reply(c: ModelClient, type: number, body: Record<string, unknown>): void {
    this.deliver(c, type, body);
  }

  private toOthers(from: ModelClient, type: number, body: Record<string, unknown>): void {
    for (const id of [...this.members.keys()]) {
      const other = this.clients[id]!;
      if (other !== from && other.live) this.deliver(other, type, body);
    }
  }

  /** One frame to `to`; a client that never reads is dropped once its queue would pass the bound. */
  private deliver(to: ModelClient, type: number, body: Record<string, unknown>): void {
    if (!to.live) return;
    if (to.kind === 'never-reads') {
      const length = encodeFrame(type, body).length;
      const queued = Math.max(0, to.owed - this.world.capacity);
      if (queued + length > this.world.maxOutbound) return this.depart(to, []);
      to.owed += length;
      return;
    }
    let list = this.step.frames.get(to.id);
    if (!list) this.step.frames.set(to.id, (list = []));
    list.push(expected(type, body));
    to.received++;
  }
}

/** The comparable form of a frame: its type and body without timestamps (and without free-text messages). */
export function canonical(type: number, body: Record<string, unknown>): string {
  const { ts: _ts, message: _message, ...rest } = body;
  switch (type) {
    case MessageType.OK:
      return `OK ${JSON.stringify(rest)}`;
    case MessageType.ERROR:
      return rest.re === undefined ? `ERROR ${String(rest.code)}` : `ERROR ${JSON.stringify(rest)}`;
    case MessageType.ROOM:
      return `ROOM ${String(rest.from)}: ${JSON.stringify(rest.text)}`;
    case MessageType.PRESENCE:
      return `PRESENCE ${String(rest.user)} ${String(rest.event)}`;
    default:
      return `0x${type.toString(16)} ${JSON.stringify(rest)}`;
  }
}

export function sourceOf(type: number, body: Record<string, unknown>): string {
  if (type === MessageType.ROOM) return `room:${String(body.from)}`;
  if (type === MessageType.PRESENCE) return `presence:${String(body.user)}`;
  return 'reply';
}

function expected(type: number, body: Record<string, unknown>): Expected {
  return { source: sourceOf(type, body), canon: canonical(type, body) };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function describeOpen(c: ModelClient): string {
  const kinds: Record<ClientKind, string> = {
    reader: '',
    'slow-reader': ' (reads 512 bytes and sends 128 every 4 ms)',
    'never-reads': ' (never reads)',
    drip: ' (sends one byte per ms)',
    'reset-mid-write': ' (resets mid-write)',
  };
  const kind = kinds[c.kind];
  const refused = c.refusedAt;
  const where = c.refusedAtLimit
    ? ' [no fd left: EMFILE]'
    : refused !== undefined
      ? ` [fd ${refused}: past the wall]`
      : c.fd !== null
        ? ` [fd ${c.fd}]`
        : '';
  return `${c.label}${kind}${where}`;
}

function describeRequest(r: Request, c: ModelClient | undefined, maxSay: number): string {
  switch (r.t) {
    case 'say': {
      const size = Math.min(r.size, c?.kind === 'drip' ? MAX_DRIP_SAY : maxSay);
      return `SAY of ${size.toLocaleString('en-US')} chars`;
    }
    case 'login':
      return 'LOGIN (rename)';
    case 'who':
      return 'WHO';
    case 'join':
      return 'JOIN #lobby';
    case 'ping':
      return 'PING';
    case 'unserved':
      return 'an unserved request type 0x03';
  }
}
