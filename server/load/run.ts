// The load generator's core, callable from the CLI and from perf benchmarks: N clients register,
// log in and join rooms, then for `durationS` seconds send at a fixed total rate — room SAYs
// (fanned out to every other member) and direct messages — and every delivery's latency is
// measured from the send time carried in its text. Each simulated user logs in once; a client whose
// connection drops while sending reconnects and RESUMEs with its session token (no password, no
// scrypt) and rejoins its room. 127.0.0.1 only.
import { WizzClient } from '../client/wizz-client.ts';
import { Req, Srv } from '../protocol/codes.ts';
import type { Frame } from '../protocol/frame.ts';
import { Histogram } from './histogram.ts';
import { resumeSession, signIn, SignInFailed } from './account.ts';

export interface LoadOptions {
  port: number;
  clients: number;
  rooms: number;
  /** Messages sent per second, all clients together. */
  rate: number;
  durationS: number;
  /** Fraction of sends that are room SAYs; the rest are direct messages. */
  sayRatio?: number;
  /**
   * Fraction of operations that are not messages: WHO, HISTORY, PING, and JOIN/LEAVE of a side
   * room, in equal parts (default 0: messages only).
   */
  otherRatio?: number;
  /** User names are `${prefix}${i}`; accounts are reused across runs. */
  prefix?: string;
  connectConcurrency?: number;
  /** After sending, how long to wait for replies and deliveries still in flight (default 15 s). */
  drainS?: number;
  /** A request unanswered this long counts as `timeout` (default 30 s; one cut off by a dropped connection never is). */
  requestTimeoutMs?: number;
  /** Give up connecting new clients after this long (scrypt makes 2,000 logins take a while). */
  setupTimeoutS?: number;
  /** Called about twice a second. */
  onProgress?: (p: LoadProgress) => void;
}

export interface LoadProgress {
  phase: 'connecting' | 'sending' | 'waiting' | 'draining';
  connected: number;
  sent: number;
  delivered: number;
  elapsedS: number;
}

export interface LoadResult {
  connected: number;
  sent: number;
  /** Sends the server acknowledged. */
  acked: number;
  /** Dropped connections that came back with RESUME (and rejoined their room). */
  resumed: number;
  /** Other requests (otherRatio), all answered OK unless counted in errors. */
  others: number;
  delivered: number;
  /** Deliveries expected from the acknowledged sends (room members online + DM recipients). */
  expected: number;
  durationS: number;
  sentPerS: number;
  deliveredPerS: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  errors: Record<string, number>;
}

const PASSWORD = 'load-test-password';
const MARK = '\u2063'; // an invisible separator: text = MARK + sendTime + MARK + padding

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  const sayRatio = o.sayRatio ?? 0.1;
  const prefix = o.prefix ?? 'load_';
  const errors: Record<string, number> = {};
  const fail = (code: string) => (errors[code] = (errors[code] ?? 0) + 1);
  const latency = new Histogram();
  const clients: Array<WizzClient | null> = new Array(o.clients).fill(null);
  const roomOf = (i: number) => `#load-${i % o.rooms}`;
  const roomSize = new Map<string, number>();
  let delivered = 0;
  let sent = 0;
  let acked = 0;
  let expected = 0;
  let ops = 0;
  let others = 0;
  let resumed = 0;
  const tokens: Array<string | null> = new Array(o.clients).fill(null);
  const inSideRoom = new Set<number>();
  let phase: LoadProgress['phase'] = 'connecting';
  const live: number[] = []; // indexes of connected clients, once sending starts
  const started = performance.now();
  const progress = () =>
    o.onProgress?.({ phase, connected: clients.filter(Boolean).length, sent, delivered, elapsedS: (performance.now() - started) / 1000 });
  const ticker = setInterval(progress, 500);
  // The server closes connections that send nothing for 5 minutes (--idle-timeout); with scrypt at
  // full cost, 2,000 logins take longer than that, and at low rates a client may send nothing for
  // as long. Keep every connected client alive with a PING a minute.
  const keepalive = setInterval(() => {
    for (const c of clients) if (c) void c.request(Req.PING, {}, 30_000).catch(() => {});
  }, 60_000);

  const onPush = (frame: Frame) => {
    if (frame.type === Srv.ROOM || frame.type === Srv.MESSAGE) {
      const text = frame.body.text as string;
      if (text.startsWith(MARK)) {
        delivered++;
        latency.record(performance.now() - Number(text.slice(1, text.indexOf(MARK, 1))));
      }
    } else if (frame.type === Srv.ERROR) fail(String(frame.body.code));
  };

  // ── connect, register, log in, join ─────────────────────────────────────────────────────────
  let next = 0;
  const setupDeadline = Date.now() + (o.setupTimeoutS ?? 600) * 1000;
  /** A connection for client i: a fresh LOGIN the first time, RESUME with its token after a drop. */
  const connectAs = async (i: number): Promise<WizzClient> => {
    const c = await WizzClient.connect(o.port);
    c.retainPushed = false;
    c.onPush = onPush;
    try {
      const token = tokens[i];
      if (token) await resumeSession(c, token);
      else tokens[i] = String((await signIn(c, `${prefix}${i}`, PASSWORD, setupDeadline)).token);
      const join = await c.request(Req.JOIN, { room: roomOf(i) }, 60_000);
      if (join.type === Srv.ERROR) throw new SignInFailed(String(join.body.code));
    } catch (err) {
      c.socket.destroy();
      throw err;
    }
    clients[i] = c;
    void c.closed.then(() => dropped(i, c));
    return c;
  };
  const dropped = (i: number, c: WizzClient) => {
    if (clients[i] !== c) return;
    clients[i] = null;
    const at = live.indexOf(i);
    if (at >= 0) live.splice(at, 1);
    if (phase === 'draining') return;
    if (phase !== 'sending') return fail('disconnected');
    // Back with RESUME: a few tries, then it counts as lost.
    void (async () => {
      for (let attempt = 0; attempt < 3 && phase === 'sending'; attempt++) {
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
        try {
          await connectAs(i);
          if (phase !== 'sending') return;
          resumed++;
          live.push(i);
          return;
        } catch {
          // try again
        }
      }
      fail('disconnected');
    })();
  };
  const setupOne = async (i: number) => {
    try {
      await connectAs(i);
      roomSize.set(roomOf(i), (roomSize.get(roomOf(i)) ?? 0) + 1);
    } catch (err) {
      fail(err instanceof SignInFailed ? err.code : 'connect_failed');
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(o.connectConcurrency ?? 64, o.clients) }, async () => {
      while (next < o.clients && Date.now() < setupDeadline) await setupOne(next++);
    }),
  );
  if (next < o.clients) errors.setup_timeout = o.clients - next;
  const connected = clients.filter(Boolean).length;

  // ── send at a fixed rate for the duration ───────────────────────────────────────────────────
  phase = 'sending';
  live.push(...clients.map((c, i) => (c ? i : -1)).filter((i) => i >= 0));
  const sendStart = performance.now();
  const outstanding = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    outstanding.add(p);
    void p.finally(() => outstanding.delete(p));
  };
  const otherOne = (i: number, c: WizzClient) => {
    const kind = Math.floor(Math.random() * 4);
    const peer = `${prefix}${live[Math.floor(Math.random() * live.length)]!}`;
    const side = `#side-${i % 50}`;
    const [type, body] =
      kind === 0 ? [Req.WHO, {}] : kind === 1 ? [Req.HISTORY, { with: peer, limit: 20 }] : kind === 2 ? [Req.PING, {}] : [inSideRoom.has(i) ? Req.LEAVE : Req.JOIN, { room: side }];
    if (kind === 3 && !inSideRoom.delete(i)) inSideRoom.add(i); // replies come in request order
    track(
      c.request(type, body, o.requestTimeoutMs ?? 30_000).then(
        (reply) => (reply.type === Srv.OK ? others++ : fail(String(reply.body.code))),
        () => fail('timeout'),
      ),
    );
  };
  const sendOne = () => {
    if (live.length < 2) return;
    ops++;
    const i = live[Math.floor(Math.random() * live.length)]!;
    const c = clients[i];
    if (!c) return;
    if (Math.random() < (o.otherRatio ?? 0)) {
      otherOne(i, c);
      return;
    }
    const text = `${MARK}${performance.now()}${MARK} load`;
    const say = Math.random() < sayRatio;
    let to = i;
    while (!say && to === i) to = live[Math.floor(Math.random() * live.length)]!;
    const fanOut = say ? (roomSize.get(roomOf(i)) ?? 1) - 1 : 1;
    sent++;
    track(
      c.request(say ? Req.SAY : Req.SEND, say ? { room: roomOf(i), text } : { to: `${prefix}${to}`, text }, o.requestTimeoutMs ?? 30_000).then(
        (reply) => {
          if (reply.type === Srv.OK) {
            acked++;
            expected += fanOut;
          } else fail(String(reply.body.code));
        },
        () => fail('timeout'),
      ),
    );
  };
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = (performance.now() - sendStart) / 1000;
      if (elapsed >= o.durationS) {
        clearInterval(timer);
        resolve();
        return;
      }
      // Catch up after a late tick, but by at most 20 ms worth of sends: a generator that cannot
      // keep up reports the lower rate it achieved instead of stalling in a burst.
      const due = Math.min(Math.floor(elapsed * o.rate) - ops, Math.ceil(o.rate / 50));
      for (let k = 0; k < due; k++) sendOne();
    }, 5);
  });
  const sendEnd = performance.now();

  // ── wait (bounded) for replies and deliveries in flight, then disconnect ───────────────────
  phase = 'waiting';
  const drainDeadline = Date.now() + (o.drainS ?? 15) * 1000;
  while (Date.now() < drainDeadline && (outstanding.size > 0 || delivered < expected)) {
    await new Promise((r) => setTimeout(r, 50));
  }
  phase = 'draining';
  clearInterval(ticker);
  clearInterval(keepalive);
  progress();
  await Promise.all(clients.map((c) => c?.close()));
  const durationS = (sendEnd - sendStart) / 1000;
  return {
    connected,
    sent,
    acked,
    resumed,
    others,
    delivered,
    expected,
    durationS,
    sentPerS: sent / durationS,
    deliveredPerS: delivered / durationS,
    latencyMs: { p50: latency.quantile(0.5), p95: latency.quantile(0.95), p99: latency.quantile(0.99), max: latency.max },
    errors,
  };
}
