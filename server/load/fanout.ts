// The workload shapes of `npm run bench:server`, run inside one load process (server/load/bench-worker.ts):
//   fanout      — rooms × members; in each room `publishers` members keep `window` SAYs (or Redis
//                 PUBLISHes) outstanding; every other member receives each message.
//   dm          — `senders` logged-in users each keep one SEND outstanding to the next user; the
//                 server acknowledges a SEND only after its commit (fsync).
//   connections — idle connections (any number, spread over source addresses in 127.0.0.0/8),
//                 then each sends a PING a second.
// Each shape is set up first (`prepare`), then measured between start() and stop(), so the bench
// can read the server's CPU counters at exactly the same two moments. 127.0.0.1 only.
import net from 'node:net';
import { Redis } from 'ioredis';
import { WizzClient } from '../client/wizz-client.ts';
import { Req, Srv } from '../protocol/codes.ts';
import { encodeFrame } from '../protocol/frame.ts';
import { Histogram } from './histogram.ts';
import { signIn } from './account.ts';
import { StampScanner, stampedText } from './stamp.ts';

export type Protocol = 'wizz' | 'redis';

export interface FanoutTask {
  shape: 'fanout';
  protocol: Protocol;
  port: number;
  /** Several hosts of one wizz cluster: member i of a room connects to ports[i % length] (default: [port]). */
  ports?: number[];
  /** Room numbers this process drives (the bench deals rooms to load processes). */
  rooms: number[];
  members: number;
  publishers: number;
  window: number;
  size: number;
  prefix: string;
}

export interface DmTask {
  shape: 'dm';
  protocol: 'wizz';
  port: number;
  senders: number;
  size: number;
  prefix: string;
}

export interface ConnectionsTask {
  shape: 'connections';
  protocol: Protocol;
  port: number;
  count: number;
  /** Source addresses 127.0.<block>.1 … : one per `perAddress` connections. */
  block: number;
  perAddress: number;
}

export type Task = FanoutTask | DmTask | ConnectionsTask;

export interface ShapeResult {
  /** Messages delivered (fanout), DMs acknowledged (dm), PINGs answered (connections) in the window. */
  count: number;
  /** For dm: MESSAGE frames received in the window. */
  delivered: number;
  seconds: number;
  latency: Histogram;
  errors: Record<string, number>;
  /** Connections that answered a PING in the window and were still open at its end (connections shape). */
  open: number;
  /** Connections the server answered while they were set up: what it held when the window began (connections shape). */
  established: number;
}

export interface Running {
  /** Starts the traffic (not yet counted: the first moments warm the JIT up). */
  start(): void;
  /** Opens the measured window: from here on deliveries and latencies count. */
  open(): void;
  /** Stops the traffic and closes the window. */
  stop(): ShapeResult;
  close(): Promise<void>;
}

const PASSWORD = 'bench-password';

export async function prepare(task: Task): Promise<Running> {
  if (task.shape === 'fanout') return task.protocol === 'wizz' ? wizzFanout(task) : redisFanout(task);
  if (task.shape === 'dm') return wizzDm(task);
  return idleConnections(task);
}

/** The window bookkeeping every shape shares. */
function meter() {
  const latency = new Histogram();
  const errors: Record<string, number> = {};
  let on = false;
  let count = 0;
  let delivered = 0;
  let startedAt = 0;
  let seconds = 0;
  return {
    errors,
    fail: (code: string) => void (errors[code] = (errors[code] ?? 0) + 1),
    get on() {
      return on;
    },
    hit(latencyMs: number) {
      if (!on) return;
      count++;
      latency.record(latencyMs);
    },
    delivery() {
      if (on) delivered++;
    },
    start() {
      on = true;
      startedAt = performance.now();
    },
    stop(open = 0, established = 0): ShapeResult {
      on = false;
      seconds = (performance.now() - startedAt) / 1000;
      return { count, delivered, seconds, latency, errors, open, established };
    },
  };
}

async function loggedIn(port: number, user: string): Promise<WizzClient> {
  const c = await WizzClient.connect(port, '127.0.0.1', 30_000);
  c.retainPushed = false;
  try {
    await signIn(c, user, PASSWORD); // waits out the server's per-address pushback (one address, many logins)
  } catch (err) {
    throw new Error(`sign-in of ${user}: ${(err as Error).message}`);
  }
  return c;
}

/** Runs `fn` over `items` with at most `limit` at once. */
async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function wizzFanout(t: FanoutTask): Promise<Running> {
  const m = meter();
  const scan = new StampScanner((ms) => m.hit(ms));
  const clients: WizzClient[] = [];
  const publishers: Array<{ c: WizzClient; room: string }> = [];
  const slots = t.rooms.flatMap((r) => Array.from({ length: t.members }, (_, i) => ({ r, i })));
  const ports = t.ports ?? [t.port];
  await inParallel(slots, 32, async ({ r, i }) => {
    const c = await loggedIn(ports[i % ports.length]!, `${t.prefix}r${r}m${i}`);
    const room = `#bench-${r}`;
    const join = await c.request(Req.JOIN, { room }, 60_000);
    if (join.type === Srv.ERROR) throw new Error(`JOIN ${room}: ${String(join.body.code)}`);
    clients.push(c);
    void c.closed.then(() => m.on && m.fail('disconnected'));
    if (i < t.publishers) {
      publishers.push({ c, room });
      c.onPush = (f) => {
        if (f.type === Srv.ROOM) scan.push(Buffer.from(String(f.body.text)));
        else if (f.type === Srv.ERROR) m.fail(String(f.body.code));
      };
    } else {
      // From here on this member only receives: count its deliveries straight from the bytes.
      c.socket.removeAllListeners('data');
      c.socket.on('data', (chunk: Buffer) => scan.push(chunk));
    }
  });
  let running = false;
  const pump = (p: { c: WizzClient; room: string }) => {
    if (!running || p.c.isClosed) return;
    p.c.request(Req.SAY, { room: p.room, text: stampedText(t.size) }, 30_000).then(
      (reply) => {
        if (reply.type !== Srv.OK) m.fail(String(reply.body.code));
        pump(p);
      },
      () => m.fail('timeout'),
    );
  };
  return {
    open: () => m.start(),
    start() {
      running = true;
      for (const p of publishers) for (let k = 0; k < t.window; k++) pump(p);
    },
    stop() {
      running = false;
      return m.stop();
    },
    close: async () => void (await Promise.all(clients.map((c) => c.close()))),
  };
}

async function redisFanout(t: FanoutTask): Promise<Running> {
  const m = meter();
  const scan = new StampScanner((ms) => m.hit(ms));
  // Subscribers: raw sockets that SUBSCRIBE and then only receive (counted from the bytes, like the
  // wizz members); publishers: ioredis clients (a subscribed connection cannot publish). Each room
  // has members − publishers subscribers… plus the publishers, who in wizz also receive each other's
  // messages: so a room gets members − 1 receivers per message either way.
  const sockets: net.Socket[] = [];
  const slots = t.rooms.flatMap((r) => Array.from({ length: t.members - 1 }, () => r));
  await inParallel(slots, 32, async (r) => {
    const s = net.connect({ host: '127.0.0.1', port: t.port });
    s.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.once('connect', () => s.write(`SUBSCRIBE bench-${r}\r\n`));
      s.once('data', () => resolve()); // the subscribe confirmation
    });
    s.on('error', () => m.on && m.fail('socket_error'));
    s.on('data', (chunk: Buffer) => scan.push(chunk));
    sockets.push(s);
  });
  const publishers: Array<{ redis: Redis; channel: string }> = [];
  for (const r of t.rooms) {
    for (let i = 0; i < t.publishers; i++) {
      const redis = new Redis({ host: '127.0.0.1', port: t.port, lazyConnect: true, maxRetriesPerRequest: 0 });
      await redis.connect();
      publishers.push({ redis, channel: `bench-${r}` });
    }
  }
  let running = false;
  const pump = (p: { redis: Redis; channel: string }) => {
    if (!running) return;
    p.redis.publish(p.channel, stampedText(t.size)).then(
      () => pump(p),
      () => m.fail('publish_failed'),
    );
  };
  return {
    open: () => m.start(),
    start() {
      running = true;
      for (const p of publishers) for (let k = 0; k < t.window; k++) pump(p);
    },
    stop() {
      running = false;
      return m.stop();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all(publishers.map((p) => p.redis.quit().catch(() => p.redis.disconnect())));
    },
  };
}

async function wizzDm(t: DmTask): Promise<Running> {
  const m = meter();
  const users = Array.from({ length: Math.max(2, t.senders) }, (_, i) => `${t.prefix}d${i}`);
  const clients: WizzClient[] = new Array(users.length);
  await inParallel(
    users.map((u, i) => ({ u, i })),
    32,
    async ({ u, i }) => {
      const c = await loggedIn(t.port, u);
      c.onPush = (f) => {
        if (f.type === Srv.MESSAGE) m.delivery();
        else if (f.type === Srv.ERROR) m.fail(String(f.body.code));
      };
      void c.closed.then(() => m.on && m.fail('disconnected'));
      clients[i] = c;
    },
  );
  let running = false;
  const pump = (i: number) => {
    if (!running) return;
    const sent = performance.now();
    clients[i]!.request(Req.SEND, { to: users[(i + 1) % users.length], text: stampedText(t.size) }, 30_000).then(
      (reply) => {
        if (reply.type === Srv.OK) m.hit(performance.now() - sent);
        else m.fail(String(reply.body.code));
        pump(i);
      },
      () => m.fail('timeout'),
    );
  };
  return {
    open: () => m.start(),
    start() {
      running = true;
      for (let i = 0; i < t.senders; i++) pump(i);
    },
    stop() {
      running = false;
      return m.stop();
    },
    close: async () => void (await Promise.all(clients.map((c) => c.close()))),
  };
}

const WIZZ_PING = encodeFrame(Req.PING, { id: 1 });
const REDIS_PING = Buffer.from('PING\r\n');
/** Connections being set up at once, per load process: below the server's listen backlog (511) for three processes. */
const SETUP_PARALLEL = 64;

type SetUp = 'held' | 'connect_failed' | 'closed_at_setup' | 'no_answer_at_setup' | string;

/** The error in a reply, or null when it is an answer: a wizz ERROR frame's code, a Redis "-ERR …" line. */
function replyError(chunk: Buffer, protocol: Protocol): string | null {
  if (protocol === 'redis') {
    if (chunk[0] !== 0x2d) return null; // "-"
    return /max number of clients/i.test(chunk.toString('latin1')) ? 'server_full' : 'server_error';
  }
  if (chunk[4] !== Srv.ERROR) return null;
  return /"code":"([a-z_]+)"/.exec(chunk.toString('latin1'))?.[1] ?? 'server_error';
}

/**
 * Connects and PINGs once: a connection counts as held only when the server answered it. The
 * kernel completes a TCP handshake before the server accepts, and under a burst of connects its
 * accept queue overflows: the client then believes it is connected while the server never saw the
 * connection (until a retransmitted SYN-ACK gets it in, up to a minute later). Waiting for the
 * answer paces the load to what the server really takes, and `held` means served.
 */
function setUpOne(port: number, localAddress: string, ping: Uint8Array, protocol: Protocol): Promise<{ s: net.Socket; outcome: SetUp }> {
  const s = net.connect({ host: '127.0.0.1', port, localAddress });
  return new Promise((resolve) => {
    let connected = false;
    const done = (outcome: SetUp) => {
      clearTimeout(timer);
      s.removeAllListeners('data');
      s.removeAllListeners('close');
      if (outcome !== 'held') s.destroy();
      resolve({ s, outcome });
    };
    const timer = setTimeout(() => done(connected ? 'no_answer_at_setup' : 'connect_failed'), 30_000);
    s.on('error', () => {});
    s.once('connect', () => {
      connected = true;
      s.write(ping);
    });
    s.on('close', () => done(connected ? 'closed_at_setup' : 'connect_failed'));
    s.on('data', (chunk: Buffer) => done(replyError(chunk, protocol) ?? 'held'));
  });
}

async function idleConnections(t: ConnectionsTask): Promise<Running> {
  const m = meter();
  const sockets: net.Socket[] = [];
  const sentAt = new Map<net.Socket, number>();
  const answered = new Set<net.Socket>();
  /** Connections the server closed or refused during the window: not pinged again. */
  const gone = new Set<net.Socket>();
  const ping = t.protocol === 'wizz' ? WIZZ_PING : REDIS_PING;
  const indexes = Array.from({ length: t.count }, (_, i) => i);
  await inParallel(indexes, SETUP_PARALLEL, async (i) => {
    // 127.<x>.<block>.<y>: a fresh source address every perAddress connections (ephemeral ports are
    // per source address, so many addresses let one machine hold more than ~28,000 connections).
    const n = 1 + Math.floor(i / t.perAddress);
    const localAddress = `127.${Math.floor(n / 250) % 250}.${t.block}.${(n % 250) + 1}`;
    const { s, outcome } = await setUpOne(t.port, localAddress, ping, t.protocol);
    if (outcome !== 'held') {
      m.fail(outcome); // server_full, closed_at_setup, connect_failed, …: counted, not held
      return;
    }
    s.on('close', () => {
      answered.delete(s);
      if (!gone.has(s)) m.fail('closed_by_server');
      gone.add(s);
    });
    // A reply to a PING is one short frame ("+PONG\r\n" or OK {re:1}); count each data event once.
    s.on('data', (chunk: Buffer) => {
      const error = replyError(chunk, t.protocol);
      if (error !== null) {
        if (!gone.has(s)) m.fail(error);
        gone.add(s);
        return;
      }
      const at = sentAt.get(s);
      if (at !== undefined) {
        sentAt.delete(s);
        m.hit(performance.now() - at);
        if (m.on) answered.add(s);
      }
    });
    sockets.push(s);
  });
  const timers: NodeJS.Timeout[] = [];
  return {
    open: () => m.start(),
    start() {
      // Each connection PINGs once a second, spread evenly over the second.
      sockets.forEach((s, i) => {
        const first = setTimeout(() => {
          const beat = () => {
            if (gone.has(s)) return;
            if (sentAt.has(s) && m.on) m.fail('no_answer_within_1s');
            sentAt.set(s, performance.now());
            s.write(ping);
          };
          beat();
          timers.push(setInterval(beat, 1000));
        }, (i / sockets.length) * 1000);
        timers.push(first);
      });
    },
    stop() {
      for (const x of timers) clearInterval(x);
      // Held: answered in the window and still open. Open, never refused, never answered in the
      // window: a silent hang, counted on its own.
      const held = [...answered].filter((s) => !s.destroyed).length;
      const silent = sockets.filter((s) => !s.destroyed && !gone.has(s) && !answered.has(s)).length;
      if (silent > 0) m.errors.never_answered = silent;
      return m.stop(held, sockets.length);
    },
    close: async () => {
      for (const s of sockets) s.destroy();
    },
  };
}
