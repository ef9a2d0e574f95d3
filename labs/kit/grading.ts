// Helpers the I/O stages' graders share: run a stage's server in a virtual-clock kernel, connect
// simulated clients, wait (bounded) until something happened, read what each client received,
// stop the server and list the fds it left open. Everything is deterministic: no wall time.
import { Kernel, type Hostility, type PollFd, type Process, type SimClient } from '#kernel/index.ts';
import { FrameDecoder, encodeFrame, type Frame } from '#server/protocol/frame.ts';
import { MessageType } from './chat.ts';
import type { RunServer } from './server-options.ts';

export type Client = SimClient;
export type { Hostility };

export interface StageOptions {
  port?: number;
  maxOutboundBytes?: number;
  seed?: number;
  /** Socket buffer sizes of the kernel (small ones force partial writes). */
  sndbuf?: number;
  rcvbuf?: number;
}

/** Longest a grader waits for one thing to happen, in virtual milliseconds. */
export const DEFAULT_WAIT_MS = 10_000;
/** Clients connected before waiting for the server to serve them (stays under the listen backlog). */
const CONNECT_BATCH = 500;
const STD_STREAMS = new Set([0, 1, 2]);

/** A stage server running in its own virtual-clock kernel. */
export class StageRun {
  readonly kernel: Kernel;
  readonly proc: Process;
  readonly port: number;
  private readonly controller = new AbortController();
  private readonly done: Promise<void>;
  private finished = false;
  private crash: { error: unknown } | null = null;
  private readonly inboxes = new Map<Client, Inbox>();
  private pingId = 0;
  /** Ready fds a poll() loop went past without servicing (see auditPollService). */
  readonly pollAudit: PollAudit;

  constructor(runServer: RunServer, options: StageOptions = {}) {
    this.kernel = new Kernel({
      clock: 'virtual',
      seed: options.seed ?? 42,
      ...(options.sndbuf !== undefined ? { sndbuf: options.sndbuf } : {}),
      ...(options.rcvbuf !== undefined ? { rcvbuf: options.rcvbuf } : {}),
    });
    this.proc = this.kernel.spawn();
    yieldAfterEachWait(this.proc);
    this.pollAudit = auditPollService(this.proc);
    this.port = options.port ?? 7000;
    const run = runServer(this.proc, {
      port: this.port,
      signal: this.controller.signal,
      ...(options.maxOutboundBytes !== undefined ? { maxOutboundBytes: options.maxOutboundBytes } : {}),
    });
    this.done = run.then(
      () => void (this.finished = true),
      (error: unknown) => void (this.crash = { error }),
    );
  }

  /** The server's rejection, if it crashed (e.g. FortifyAbort), else null. */
  get crashed(): unknown {
    return this.crash?.error ?? null;
  }

  get stopped(): boolean {
    return this.finished;
  }

  /** Waits until `cond` holds, at most `timeoutMs` of virtual time; fails fast if the server crashed. */
  async waitFor(cond: () => boolean, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    try {
      await this.kernel.until(() => this.crash !== null || this.finished || cond(), { timeoutMs, what });
    } catch (err) {
      if (/still busy/.test(describe(err))) {
        throw new Error(
          `the server never went to sleep while we waited for ${what}: its loop spins — some fd is ` +
            `reported ready every time round and nothing makes it stop being ready. The usual two: a socket ` +
            `watched for writing with nothing queued (one with room in its send buffer is always writable: ` +
            `watch writes only while bytes wait), or a peer that left and was never closed\n  (${describe(err)})`,
        );
      }
      throw new Error(`timed out after ${timeoutMs} virtual ms waiting for ${what}\n  (${describe(err)})`);
    }
    if (this.crash) throw new Error(`the server crashed while we waited for ${what}: ${describe(this.crash.error)}`);
    if (this.finished && !cond()) throw new Error(`runServer returned before ${what} (it should run until the signal aborts)`);
  }

  /** Opens one client connection without waiting for the server. */
  open(hostile?: Hostility): Client {
    const client = this.kernel.client(this.port, hostile ? { hostile } : {});
    this.inboxes.set(client, new Inbox());
    return client;
  }

  /**
   * Connects `n` clients and waits until the server serves each: every client sends PING and
   * gets its OK. Connects in batches so a burst never exceeds the listen backlog.
   */
  async connect(n: number): Promise<Client[]> {
    const clients: Client[] = [];
    for (let start = 0; start < n; start += CONNECT_BATCH) {
      const batch: Client[] = [];
      for (let i = start; i < Math.min(n, start + CONNECT_BATCH); i++) batch.push(this.open());
      const ids = batch.map((c) => this.ping(c));
      let waiting = batch.map((c, i) => ({ c, id: ids[i]! }));
      await this.waitFor(() => {
        waiting = waiting.filter(({ c, id }) => !this.hasReply(c, id));
        return waiting.length === 0;
      }, `the server to answer PING on each of clients ${start + 1}–${start + batch.length}` +
        ` (${clients.length + batch.length} connected in all)`);
      clients.push(...batch);
    }
    return clients;
  }

  /** Sends PING; returns its id. */
  ping(client: Client): string {
    const id = `p${++this.pingId}`;
    client.send(encodeFrame(MessageType.PING, { id }));
    return id;
  }

  /** True once `client` received the OK or ERROR replying to request `id`. */
  hasReply(client: Client, id: string): boolean {
    return this.frames(client).some((f) => (f.type === MessageType.OK || f.type === MessageType.ERROR) && f.body.re === id);
  }

  /** Every frame `client` received so far, decoded incrementally. */
  frames(client: Client): Frame[] {
    let inbox = this.inboxes.get(client);
    if (!inbox) this.inboxes.set(client, (inbox = new Inbox()));
    return inbox.read(client.received);
  }

  /** ROOM frames with `text` that `client` received. */
  heard(client: Client, text: string): Frame[] {
    return this.frames(client).filter((f) => f.type === MessageType.ROOM && f.body.text === text);
  }

  /** `from` says `text`; waits until every client in `listeners` heard it once. */
  async sayAndWait(from: Client, text: string, listeners: Client[], what = `every other client to receive "${text}"`): Promise<void> {
    from.send(encodeFrame(MessageType.SAY, { id: `say:${text}`, text }));
    let waiting = listeners;
    await this.waitFor(() => {
      waiting = waiting.filter((c) => this.heard(c, text).length === 0);
      return waiting.length === 0;
    }, what);
  }

  /**
   * Lets `ms` of virtual time pass with nobody sending anything. Fails if the server never sleeps
   * meanwhile (the kernel reports a system that stays busy), or if it crashed.
   */
  async idle(ms: number): Promise<void> {
    try {
      await this.kernel.advance(ms);
    } catch (err) {
      throw new Error(`the server never went to sleep while nothing happened: ${describe(err)}`);
    }
    if (this.crash) throw new Error(`the server crashed while idle: ${describe(this.crash.error)}`);
  }

  /** fds the server holds beyond the standard streams. */
  openFds(): number[] {
    return this.proc.openFds().filter((fd) => !STD_STREAMS.has(fd));
  }

  /** Stops a server whose test already failed: abort, let it wind down briefly, never throw. */
  async dispose(): Promise<void> {
    this.controller.abort();
    await this.kernel.until(() => this.finished || this.crash !== null, { timeoutMs: 5_000 }).catch(() => undefined);
  }

  /** Aborts the signal and waits for runServer to resolve; rethrows a crash. */
  async stop(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    this.controller.abort();
    try {
      await this.kernel.until(() => this.finished || this.crash !== null, {
        timeoutMs,
        what: 'runServer to resolve after its signal aborted',
      });
    } catch {
      throw new Error(
        `runServer did not resolve within ${timeoutMs} virtual ms after options.signal aborted: ` +
          'check the signal each time round the loop and give select/poll a timeout so the loop comes round',
      );
    }
    await this.done;
    if (this.crash) throw new Error(`the server crashed while stopping: ${describe(this.crash.error)}`);
  }
}

/**
 * A loop that never sleeps (say it watches an fd that is always ready) would keep the server's
 * promise chain in microtasks forever and freeze the test runner with it. Yielding to the event
 * loop after each waiting call lets the kernel's settle() see the spin and report it instead.
 */
function yieldAfterEachWait(proc: Process): void {
  for (const name of ['select', 'poll', 'epoll_wait', 'kevent'] as const) {
    const original = (proc[name] as (...args: unknown[]) => Promise<number>).bind(proc);
    Object.defineProperty(proc, name, {
      configurable: true,
      writable: true,
      value: async (...args: unknown[]): Promise<number> => {
        const result = await original(...args);
        await new Promise<void>((resolve) => setImmediate(resolve));
        return result;
      },
    });
  }
}

export interface MissedEvent {
  fd: number;
  revents: number;
  /** Which poll() call reported it (1 = the first). */
  call: number;
}
export interface PollAudit {
  readonly missed: MissedEvent[];
  /** Entries in the array the last poll() call was given. */
  readonly lastLength: number;
}

/**
 * Watches a poll() loop keep the one promise it owes each wake-up: every entry that poll()
 * reported readable, hung up, in error or invalid gets looked at before the next poll() —
 * a read, accept or close on that fd, or the entry gone from the array. A loop that skips an
 * entry (the classic swap-delete slip) leaves its events for later; this catches it at once.
 */
function auditPollService(proc: Process): PollAudit {
  const NEEDS_SERVICE = 0x001 | 0x008 | 0x010 | 0x020; // POLLIN | POLLERR | POLLHUP | POLLNVAL
  const audit = { missed: [] as MissedEvent[], lastLength: 0 };
  const touched = new Set<number>();
  let reported: Array<{ fd: number; revents: number }> = [];
  let calls = 0;
  for (const name of ['read', 'accept', 'accept4', 'close'] as const) {
    const original = (proc[name] as (fd: number, ...rest: unknown[]) => number).bind(proc);
    Object.defineProperty(proc, name, {
      configurable: true,
      writable: true,
      value: (fd: number, ...rest: unknown[]): number => {
        touched.add(fd);
        return original(fd, ...rest);
      },
    });
  }
  const poll = (proc.poll as (fds: PollFd[], timeoutMs: number | null) => Promise<number>).bind(proc);
  Object.defineProperty(proc, 'poll', {
    configurable: true,
    writable: true,
    value: async (fds: PollFd[], timeoutMs: number | null): Promise<number> => {
      audit.lastLength = fds.length;
      const watched = new Set(fds.map((p) => p.fd));
      for (const r of reported) if (!touched.has(r.fd) && watched.has(r.fd)) audit.missed.push({ ...r, call: calls });
      touched.clear();
      const result = await poll(fds, timeoutMs);
      calls++;
      reported = fds.filter((p) => p.fd >= 0 && p.revents & NEEDS_SERVICE).map((p) => ({ fd: p.fd, revents: p.revents }));
      return result;
    },
  });
  return audit;
}

/** Decodes a client's growing `received` bytes once, however often it is asked. */
class Inbox {
  private readonly decoder = new FrameDecoder();
  private readonly decoded: Frame[] = [];
  private consumed = 0;

  read(received: Uint8Array): Frame[] {
    if (received.length > this.consumed) {
      this.decoded.push(...this.decoder.push(received.subarray(this.consumed)));
      this.consumed = received.length;
    }
    return this.decoded;
  }
}

/** The kind of a frame for failure messages, e.g. "ROOM" or "0x42". */
export function typeName(type: number): string {
  const entry = Object.entries(MessageType).find(([, t]) => t === type);
  return entry ? entry[0] : `0x${type.toString(16)}`;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
