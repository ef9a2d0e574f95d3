// Several wizz hosts acting as one, for the multi-host tests and `npm run cluster`: a throwaway
// redis-server and PostgreSQL, then N hosts, each a normal `node --import tsx server/main.ts`
// told only where Redis and PostgreSQL are (WIZZ_REDIS_URL, WIZZ_DATABASE_URL) and its own name
// and address. Hosts run in their own network namespaces when possible (see netns.ts). Every
// process is started here and stopped by stopAll(), which also removes the temp dir.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createNetwork, type AddressMode, type Network, type NetworkOptions } from './netns.ts';
import { startRedis } from './redis.ts';
import { startSentinelRedis, type SentinelRedis } from './sentinel.ts';
import { startPostgres } from './postgres.ts';
import { WizzClient } from '../client/wizz-client.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const KEEP_OUTPUT = 256 * 1024;
const STOP_GRACE_MS = 5_000;

export type RedisServer = Awaited<ReturnType<typeof startRedis>>;
export type PostgresServer = Awaited<ReturnType<typeof startPostgres>>;

export interface ClusterOptions {
  hosts: number;
  /** 'single' (default): one redis-server. 'sentinel': a primary, a replica and three sentinels (failover tests). */
  redis?: 'single' | 'sentinel';
  /** Presence lease in seconds (WIZZ_PRESENCE_LEASE); the server's default when absent. */
  leaseS?: number;
  /** Reactor processes per host (default 1). */
  reactors?: number;
  /** Where hosts live: 'auto' (netns when possible), 'loopback' (127.0.0.11, .12, …) or 'localhost' (all on 127.0.0.1). */
  network?: NetworkOptions['mode'];
  /** Port of each host (default 0: any free port, kept across restart()). */
  ports?: number[];
  /** More WIZZ_* settings for every host. */
  env?: Record<string, string>;
  /** Each line a host prints, as it comes. */
  onOutput?: (host: string, line: string) => void;
  startTimeoutMs?: number;
}

export interface ClusterHost {
  /** host-1, host-2, … (also its WIZZ_NODE_ID). */
  name: string;
  address: string;
  port: number;
  netns?: string;
  /** The primary's pid while it runs. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Everything it printed since its last (re)start. */
  output(): string;
  /** SIGKILL kills the whole host at once (primary and reactors, like a machine lost); other signals go to the primary. Resolves when it exited. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGSTOP to the whole host (primary and reactors): a machine that froze, sockets and all. */
  pause(): void;
  /** SIGCONT: the frozen host goes on where it stopped. */
  resume(): void;
  /** Starts it again, same name, address and port; resolves when it listens. */
  restart(): Promise<void>;
  /** A new client connection to this host. */
  connect(): Promise<WizzClient>;
}

export interface Cluster {
  hosts: ClusterHost[];
  mode: AddressMode;
  /** One line saying where everything is (netns or 127.0.0.x), for the test log. */
  description: string;
  /** The engines (kill, restart, pause… for fault tests). `redis` throws in 'sentinel' mode: use `sentinel`. */
  redis: RedisServer;
  /** The replicated Redis and its sentinels ('sentinel' mode), else null. */
  sentinel: SentinelRedis | null;
  postgres: PostgresServer;
  /** Where the hosts reach them. */
  redisUrl: string;
  databaseUrl: string;
  /** Every host's output, for a failing test's message. */
  output(): string;
  /** Stops every host, Redis and PostgreSQL, removes namespaces and temp dirs. Safe to call twice. */
  stopAll(): Promise<void>;
}

/** Processes still running, killed if this process exits without stopAll() (a crashed test run). */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal); // detached: the host is its own process group
  } catch {
    child.kill(signal);
  }
}

export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wizz-cluster-'));
  let network: Network = createNetwork(options.hosts, { mode: options.network ?? 'auto' });
  let services: Services | undefined;
  const hosts: Host[] = [];
  const stopAll = async () => {
    await Promise.allSettled(hosts.map((h) => h.stop()));
    await services?.stop();
    network.teardown();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    try {
      services = await startServices(network.serviceAddress, options.redis ?? 'single');
    } catch (err) {
      if (network.mode !== 'netns' || !/EADDRNOTAVAIL|EACCES|bind/i.test((err as Error).message)) throw err;
      // The engines could not listen on the bridge: the namespaces could not reach them.
      network.teardown();
      network = createNetwork(options.hosts, { mode: 'loopback' });
      network.description = `${network.description}; netns not used: ${(err as Error).message.split('\n')[0]}`;
      services = await startServices(network.serviceAddress, options.redis ?? 'single');
    }
    for (const [i, place] of network.hosts.entries()) {
      const env: Record<string, string> = {
        WIZZ_REDIS_URL: services.redisUrl,
        WIZZ_DATABASE_URL: services.databaseUrl,
        WIZZ_NODE_ID: place.name,
        WIZZ_HOST: place.address,
        WIZZ_PORT: String(options.ports?.[i] ?? 0),
        WIZZ_REACTORS: String(options.reactors ?? 1),
        WIZZ_SCRYPT_LOG_N: '10', // hashing is not what a cluster is about
        WIZZ_REGISTERS_PER_ADDRESS: '0', // every test client registers from one address
        WIZZ_DB: path.join(dir, `${place.name}.db`),
        ...(options.leaseS !== undefined ? { WIZZ_PRESENCE_LEASE: String(options.leaseS) } : {}),
        ...options.env,
      };
      hosts.push(new Host(place.name, place.address, place.netns, place.wrap, env, options));
    }
    await Promise.all(hosts.map((h) => h.start()));
  } catch (err) {
    await stopAll();
    if (err instanceof Error) err.message += `\n(${network.description})`;
    throw err;
  }
  let stopped: Promise<void> | undefined;
  return {
    hosts,
    mode: network.mode,
    description: network.description,
    get redis(): RedisServer {
      if (!services!.redis) throw new Error('this cluster runs on Redis Sentinel: use cluster.sentinel');
      return services!.redis;
    },
    sentinel: services.sentinel,
    postgres: services.postgres,
    redisUrl: services.redisUrl,
    databaseUrl: services.databaseUrl,
    output: () => hosts.map((h) => `--- ${h.name} (${h.address}:${h.port})\n${h.output()}`).join('\n'),
    stopAll: () => (stopped ??= stopAll()),
  };
}

interface Services {
  redis: RedisServer | null;
  sentinel: SentinelRedis | null;
  postgres: PostgresServer;
  /** The URLs as the hosts must use them. */
  redisUrl: string;
  databaseUrl: string;
  stop(): Promise<void>;
}

/** Redis (one server, or replicated under Sentinel) and PostgreSQL, where every host can reach them (`address`). */
async function startServices(address: string, redisMode: 'single' | 'sentinel'): Promise<Services> {
  const redisStart = redisMode === 'sentinel' ? startSentinelRedis({ host: address }) : startRedis({ host: address });
  const [r, p] = await Promise.allSettled([redisStart, startPostgres({ host: address })]);
  const started = [r, p].flatMap((x) => (x.status === 'fulfilled' ? [x.value] : []));
  const stop = async () => void (await Promise.allSettled(started.map((x) => x.stop())));
  if (r.status === 'rejected' || p.status === 'rejected') {
    await stop();
    throw r.status === 'rejected' ? r.reason : (p as PromiseRejectedResult).reason;
  }
  const sentinel = redisMode === 'sentinel' ? (r.value as SentinelRedis) : null;
  return { redis: sentinel ? null : (r.value as RedisServer), sentinel, postgres: p.value, redisUrl: r.value.url, databaseUrl: p.value.url, stop };
}

class Host implements ClusterHost {
  private child: ChildProcess | undefined;
  private exited: Promise<number | null> = Promise.resolve(null);
  private out = '';

  constructor(
    readonly name: string,
    readonly address: string,
    readonly netns: string | undefined,
    private readonly wrap: (command: string[]) => string[],
    private readonly env: Record<string, string>,
    private readonly options: ClusterOptions,
    public port = 0,
  ) {}

  get pid(): number | undefined {
    return this.running ? this.child!.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  output(): string {
    return this.out;
  }

  connect(): Promise<WizzClient> {
    return WizzClient.connect(this.port, this.address);
  }

  /** Starts the host and resolves when it prints where it listens. */
  start(): Promise<void> {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('WIZZ_')) env[k] = v; // nothing of the caller's own settings
    Object.assign(env, this.env, this.port ? { WIZZ_PORT: String(this.port) } : {});
    const [command, ...args] = this.wrap([process.execPath, '--import', 'tsx', 'server/main.ts']);
    // Its own process group: Ctrl-C in a terminal reaches only whoever started the cluster, which
    // stops the hosts in order; and kill(SIGKILL) takes the reactors with the primary.
    const child = spawn(command!, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.child = child;
    this.out = '';
    live.add(child);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        live.delete(child);
        resolve(code);
      }),
    );
    const timeoutMs = this.options.startTimeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
      let partial = '';
      let listening = false;
      const timer = setTimeout(() => {
        killGroup(child, 'SIGKILL');
        reject(new Error(`${this.name} did not start within ${timeoutMs} ms:\n${this.out}`));
      }, timeoutMs);
      const onData = (chunk: Buffer) => {
        const text = chunk.toString();
        this.out = (this.out + text).slice(-KEEP_OUTPUT);
        partial += text;
        const lines = partial.split('\n');
        partial = lines.pop()!;
        for (const line of lines) {
          this.options.onOutput?.(this.name, line);
          const m = /wizz listening on ([\d.]+):(\d+)/.exec(line);
          if (m && !listening) {
            listening = true;
            this.port = Number(m[2]);
            clearTimeout(timer);
            resolve();
          }
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} could not be started (${command}): ${err.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        if (!listening) reject(new Error(`${this.name} exited (${signal ?? `code ${code}`}) before listening:\n${this.out}`));
      });
    });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (!this.running) return this.exited;
    if (signal === 'SIGKILL') killGroup(this.child!, signal);
    else this.child!.kill(signal);
    return this.exited;
  }

  pause(): void {
    if (this.running) killGroup(this.child!, 'SIGSTOP');
  }

  resume(): void {
    if (this.running) killGroup(this.child!, 'SIGCONT');
  }

  async restart(): Promise<void> {
    if (this.running) await this.stop();
    await this.start();
  }

  /** SIGTERM (a graceful stop), then SIGKILL of the group if it takes too long. */
  async stop(): Promise<void> {
    if (!this.child) return;
    const child = this.child;
    if (this.running) {
      killGroup(child, 'SIGCONT'); // a paused host cannot act on SIGTERM
      child.kill('SIGTERM');
    }
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
    killGroup(child, 'SIGKILL'); // a reactor that outlived its primary
  }
}
