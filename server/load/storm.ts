// The reconnect storm: N users logged in (each once, with LOGIN's scrypt), then every connection
// drops at the same moment — a network blip, a load balancer restart — and every client comes
// back at once with RESUME and its session token. What it measures: the time until the last one
// has its OK, and how many RESUMEs a second that is. 127.0.0.1 only.
import { WizzClient } from '../client/wizz-client.ts';
import { Req, Srv } from '../protocol/codes.ts';
import { signIn } from './account.ts';

export interface StormOptions {
  port: number;
  clients: number;
  /** User names are `${prefix}${i}`. */
  prefix: string;
  /** Sign-ins in flight at once while setting up (default 32). */
  setupConcurrency?: number;
  /** Give up setting up after this long (default 600 s). */
  setupTimeoutS?: number;
  /** Give up on a storm after this long (default 60 s): who is not back by then counts as `not_back`. */
  stormTimeoutS?: number;
}

export interface StormRound {
  clients: number;
  /** Clients that had RESUME's OK before the timeout. */
  back: number;
  /** From the drop's reconnects starting to the last OK (or the timeout). */
  seconds: number;
  resumesPerS: number;
  /** Time from a client's reconnect starting to its OK: p50 and p99, ms. */
  p50Ms: number;
  p99Ms: number;
  errors: Record<string, number>;
}

const PASSWORD = 'storm-test-password';

export class Storm {
  private clients: Array<WizzClient | null>;

  private constructor(
    private readonly o: StormOptions,
    private readonly tokens: string[],
    clients: WizzClient[],
  ) {
    this.clients = clients;
  }

  /** Signs every user in once (REGISTER unless taken, LOGIN), keeping the connections and tokens. */
  static async prepare(o: StormOptions): Promise<Storm> {
    const tokens = new Array<string>(o.clients);
    const clients = new Array<WizzClient>(o.clients);
    const deadline = Date.now() + (o.setupTimeoutS ?? 600) * 1000;
    let next = 0;
    const worker = async () => {
      while (next < o.clients) {
        const i = next++;
        const c = await WizzClient.connect(o.port, '127.0.0.1', 30_000);
        c.retainPushed = false;
        const login = await signIn(c, `${o.prefix}${i}`, PASSWORD, deadline);
        tokens[i] = String(login.token);
        clients[i] = c;
      }
    };
    const opened = await Promise.allSettled(Array.from({ length: Math.min(o.setupConcurrency ?? 32, o.clients) }, worker));
    const storm = new Storm(o, tokens, clients);
    const failed = opened.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await storm.close();
      throw new Error(`storm set-up failed: ${(failed.reason as Error).message}`);
    }
    return storm;
  }

  /** Every connection drops at once (the client side closes, as a blip looks to the server). */
  async drop(): Promise<void> {
    const closing = this.clients.map((c) => {
      if (!c) return Promise.resolve();
      c.socket.destroy();
      return c.closed;
    });
    this.clients = this.clients.map(() => null);
    await Promise.all(closing);
  }

  /** Every client reconnects at the same moment and RESUMEs; resolves when all are back (or at the timeout). */
  async comeBack(): Promise<StormRound> {
    const errors: Record<string, number> = {};
    const fail = (code: string) => (errors[code] = (errors[code] ?? 0) + 1);
    const times: number[] = [];
    const timeoutMs = (this.o.stormTimeoutS ?? 60) * 1000;
    const started = performance.now();
    let last = started;
    await Promise.all(
      this.tokens.map(async (token, i) => {
        const t0 = performance.now();
        try {
          const c = await WizzClient.connect(this.o.port, '127.0.0.1', timeoutMs);
          c.retainPushed = false;
          this.clients[i] = c;
          const reply = await c.request(Req.RESUME, { token }, Math.max(1, timeoutMs - (performance.now() - started)));
          if (reply.type !== Srv.OK) return fail(String(reply.body.code));
          const now = performance.now();
          times.push(now - t0);
          last = Math.max(last, now);
        } catch (err) {
          fail(/timed out|no reply/.test((err as Error).message) ? 'not_back' : 'connect_failed');
        }
      }),
    );
    const seconds = ((times.length === this.tokens.length ? last : performance.now()) - started) / 1000;
    times.sort((a, b) => a - b);
    const q = (p: number) => (times.length ? times[Math.min(times.length - 1, Math.floor(p * times.length))]! : NaN);
    return { clients: this.tokens.length, back: times.length, seconds, resumesPerS: times.length / seconds, p50Ms: q(0.5), p99Ms: q(0.99), errors };
  }

  async close(): Promise<void> {
    await Promise.all(this.clients.map((c) => c?.close()));
  }
}
