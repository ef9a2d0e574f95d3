// What a chaos run talks to: one real server process (faults from outside: kill -9, SIGSTOP, a
// lock on its SQLite file), the whole server in this process (where the database thread can be
// killed), or several real hosts with a real redis-server and PostgreSQL (testing/cluster.ts).
// A target says where each host listens, brings everything back up after a run, and how long the
// system needs to settle before WHO is a fair question.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { Worker, WorkerOptions } from 'node:worker_threads';
import { startServerProcess, tempDir, type ServerProcess } from '../testing/helpers.ts';
import { startHarness, type Harness } from '../testing/harness.ts';
import { startCluster, type Cluster } from '../testing/cluster.ts';
import { spawnTsWorker } from '../util/ts-worker.ts';

export type TargetKind = 'process' | 'harness' | 'cluster';

export interface Target {
  kind: TargetKind;
  hosts: number;
  address(host: number): { host: string; port: number };
  /** How long to wait, after the faults are healed, before the final reads. */
  settleMs(faultsSeen: ReadonlySet<string>): number;
  /** Brings back whatever a fault left down; resolves when every host serves. */
  ensureUp(): Promise<void>;
  output(): string;
  stop(): Promise<void>;
}

const CHEAP_HASHES = ['--scrypt-log-n', '10'];

/** The reactor processes of a primary. */
export function childrenOf(pid: number): number[] {
  try {
    const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)], { encoding: 'utf8' });
    return out
      .split('\n')
      .filter((line) => line.includes('server/main.ts'))
      .map((line) => Number(line.trim().split(/\s+/)[0]));
  } catch {
    return []; // ps exits 1 when there are none
  }
}

/** The real multi-process server on one host: `node --import tsx server/main.ts --reactors 2`. */
export class ProcessTarget implements Target {
  readonly kind = 'process';
  readonly hosts = 1;
  readonly dbFile = path.join(tempDir(), 'wizz.db');
  readonly reactors = 2;
  server!: ServerProcess;
  private port = 0;
  private logs = '';

  static async start(): Promise<ProcessTarget> {
    const t = new ProcessTarget();
    await t.launch();
    return t;
  }

  private async launch(): Promise<void> {
    // The same port after a restart, so clients come back where they were; a port still held by a
    // dying process is retried.
    for (let attempt = 1; ; attempt++) {
      try {
        this.server = await startServerProcess(['--port', String(this.port), '--reactors', String(this.reactors), '--db', this.dbFile, ...CHEAP_HASHES]);
        this.port = this.server.port;
        return;
      } catch (err) {
        if (attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  get running(): boolean {
    return this.server.child.exitCode === null && this.server.child.signalCode === null;
  }

  /** Every process of the server: reactors first, then the primary. */
  pids(): number[] {
    return this.running ? [...childrenOf(this.server.child.pid!), this.server.child.pid!] : [];
  }

  address(): { host: string; port: number } {
    return { host: '127.0.0.1', port: this.port };
  }

  settleMs(): number {
    return 250;
  }

  async ensureUp(): Promise<void> {
    for (const pid of this.pids()) signal(pid, 'SIGCONT');
    // A reactor killed by the nemesis is replaced by the primary at once — or after a back-off of
    // up to 30 s when replacements keep dying young (as when shrinking kills one again and again).
    // Rather than wait that out, a server without all its reactors after 3 s is restarted.
    const deadline = Date.now() + 3_000;
    while (this.running && childrenOf(this.server.child.pid!).length < this.reactors && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (this.running && childrenOf(this.server.child.pid!).length < this.reactors) {
      for (const pid of this.pids()) signal(pid, 'SIGKILL');
      await this.server.exited;
    }
    if (!this.running) {
      this.logs += this.server.output();
      await this.launch();
    }
  }

  output(): string {
    return this.logs + this.server.output();
  }

  async stop(): Promise<void> {
    for (const pid of this.pids()) signal(pid, 'SIGCONT');
    if (this.running) await this.server.stop('SIGTERM');
  }
}

/** The whole server in this process (testing/harness.ts), two reactors, its database thread killable. */
export class HarnessTarget implements Target {
  readonly kind = 'harness';
  readonly hosts = 1;
  readonly dbFile = path.join(tempDir(), 'wizz.db');
  harness!: Harness;
  private worker: Worker | null = null;

  static async start(): Promise<HarnessTarget> {
    const t = new HarnessTarget();
    t.harness = await startHarness({
      dbFile: t.dbFile,
      reactors: 2,
      restartDelayMs: 300,
      actor: { spawn: (entry: URL, options: WorkerOptions) => (t.worker = spawnTsWorker(entry, options)) },
    });
    return t;
  }

  /** Kills the database actor thread as a crash would (the actor restarts it). */
  killDbThread(): Promise<number> {
    return this.worker ? this.worker.terminate() : Promise.resolve(0);
  }

  private next = 0;
  address(): { host: string; port: number } {
    // Connections alternate between the two reactors, as the kernel's round robin would spread them.
    const ports = this.harness.ports;
    return { host: '127.0.0.1', port: ports[this.next++ % ports.length]! };
  }

  settleMs(): number {
    return 250;
  }

  async ensureUp(): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!this.harness.actor.isUp && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }

  output(): string {
    return '';
  }

  stop(): Promise<void> {
    return this.harness.stop();
  }
}

/** N real hosts, a real redis-server and PostgreSQL (testing/cluster.ts); presence lease 2 s. */
/** Many hosts: one redis-server, or a primary, a replica and three sentinels. */
export type RedisMode = 'single' | 'sentinel';

export class ClusterTarget implements Target {
  readonly kind = 'cluster';
  static readonly LEASE_S = 2;
  cluster!: Cluster;
  redisPaused = false;
  constructor(
    readonly hosts: number,
    readonly redis: RedisMode = 'single',
  ) {}

  static async start(hosts: number, redis: RedisMode = 'single'): Promise<ClusterTarget> {
    const t = new ClusterTarget(hosts, redis);
    t.cluster = await startCluster({ hosts, leaseS: ClusterTarget.LEASE_S, redis });
    return t;
  }

  address(host: number): { host: string; port: number } {
    const h = this.cluster.hosts[host % this.hosts]!;
    return { host: h.address, port: h.port };
  }

  /** After a host died or stalled, or Redis was away, wait out a lease (plus a check and slack). */
  settleMs(faultsSeen: ReadonlySet<string>): number {
    return faultsSeen.size > 0 ? ClusterTarget.LEASE_S * 1_500 + 1_500 : 600;
  }

  async ensureUp(): Promise<void> {
    const { cluster } = this;
    if (cluster.sentinel === null) {
      if (cluster.redis.pid !== undefined) signal(cluster.redis.pid, 'SIGCONT');
      if (!cluster.redis.running) await cluster.redis.restart();
    } // under Sentinel the failover fault heals itself (the killed primary comes back as a replica)
    if (cluster.postgres.pid === null) await cluster.postgres.start();
    else cluster.postgres.resume();
    for (const h of cluster.hosts) {
      if (h.pid !== undefined) signal(-h.pid, 'SIGCONT');
      if (!h.running) await h.restart();
    }
  }

  output(): string {
    return this.cluster.output();
  }

  stop(): Promise<void> {
    return this.cluster.stopAll();
  }
}

export function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}
