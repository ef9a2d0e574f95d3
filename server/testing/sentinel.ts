// A throwaway replicated Redis watched by Redis Sentinel, for the failover tests and the chaos
// runner: one primary, `replicas` replicas (`--replicaof`), and `sentinels` sentinels (the same
// redis-server binary with `--sentinel`; Debian's redis-sentinel package is that binary too), all on
// free ports of `host`, in one temp dir. killPrimary() is the fault: SIGKILL of whichever node the
// sentinels name as primary now; the sentinels agree it is down after `downAfterMs` and promote a
// replica. Nothing persists on disk (like startRedis): a node that restarts comes back empty and
// the sentinels make it a replica of the current primary.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './local.ts';
import { launchRedis as launch, redisServerBinary } from './redis.ts';

export const SENTINEL_PRIMARY_NAME = 'wizz';

export interface SentinelOptions {
  host?: string;
  replicas?: number;
  sentinels?: number;
  /** How long a primary must be silent before the sentinels call it down (default 1000 ms). */
  downAfterMs?: number;
  readyTimeoutMs?: number;
}

export interface SentinelRedis {
  /** redis+sentinel://HOST:PORT,…/wizz, for WIZZ_REDIS_URL. */
  url: string;
  host: string;
  /** The data nodes' ports (primary first at start). */
  nodePorts: number[];
  sentinelPorts: number[];
  /** The port the sentinels name as primary now (asks the first sentinel that answers). */
  primaryPort(): Promise<number>;
  /** SIGKILL of the current primary; resolves with its port once it is dead. */
  killPrimary(): Promise<number>;
  /** Starts a killed data node again (empty); the sentinels make it a replica. */
  restartNode(port: number): Promise<void>;
  /** Resolves once the sentinels name a primary other than `oldPort` that answers as primary. */
  waitForFailover(oldPort: number, timeoutMs?: number): Promise<number>;
  /** Pid of the data node on `port` (for SIGSTOP/SIGCONT faults). */
  pidOf(port: number): number | undefined;
  stop(): Promise<void>;
}

export async function startSentinelRedis(options: SentinelOptions = {}): Promise<SentinelRedis> {
  const binary = redisServerBinary();
  const host = options.host ?? '127.0.0.1';
  const downAfterMs = options.downAfterMs ?? 1_000;
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wizz-sentinel-'));
  const nodes = new Map<number, ChildProcess>();
  const sentinels: ChildProcess[] = [];
  const all = () => [...nodes.values(), ...sentinels];
  const onExit = () => {
    for (const c of all()) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', onExit);

  const nodePorts: number[] = [];
  const sentinelPorts: number[] = [];
  let primary = 0;
  const startNode = async (port: number, replicaOf: number | null) => {
    const nodeDir = path.join(dir, `node-${port}`);
    fs.mkdirSync(nodeDir, { recursive: true });
    const args = [
      '--port', String(port), '--bind', host, '--protected-mode', 'no', '--save', '', '--appendonly', 'no',
      '--dir', nodeDir, '--daemonize', 'no', '--logfile', '', '--replica-announce-ip', host,
      ...(replicaOf === null ? [] : ['--replicaof', host, String(replicaOf)]),
    ];
    nodes.set(port, await launch(binary, args, /Ready to accept connections/, readyTimeoutMs));
  };

  try {
    const count = 1 + (options.replicas ?? 1);
    for (let i = 0; i < count; i++) nodePorts.push(await freePort(host));
    primary = nodePorts[0]!;
    for (const [i, port] of nodePorts.entries()) await startNode(port, i === 0 ? null : primary);
    const quorum = Math.floor((options.sentinels ?? 3) / 2) + 1;
    for (let i = 0; i < (options.sentinels ?? 3); i++) {
      const port = await freePort(host);
      const conf = path.join(dir, `sentinel-${port}.conf`);
      // The sentinel rewrites its own config file (what it learnt): it must be writable and its own.
      fs.writeFileSync(conf, [
        `port ${port}`, `bind ${host}`, 'protected-mode no', `dir ${dir}`, `sentinel announce-ip ${host}`,
        `sentinel monitor ${SENTINEL_PRIMARY_NAME} ${host} ${primary} ${quorum}`,
        `sentinel down-after-milliseconds ${SENTINEL_PRIMARY_NAME} ${downAfterMs}`,
        `sentinel failover-timeout ${SENTINEL_PRIMARY_NAME} ${Math.max(3_000, downAfterMs * 3)}`,
        `sentinel parallel-syncs ${SENTINEL_PRIMARY_NAME} 1`, '',
      ].join('\n'));
      sentinels.push(await launch(binary, [conf, '--sentinel'], /Sentinel ID is|monitor master/i, readyTimeoutMs));
      sentinelPorts.push(port);
    }
  } catch (err) {
    onExit();
    process.off('exit', onExit);
    throw err;
  }

  const ask = async <T>(fn: (r: Redis) => Promise<T>, port: number): Promise<T> => {
    const r = new Redis({ host, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1_000, commandTimeout: 1_000 });
    r.on('error', () => {});
    try {
      await r.connect();
      return await fn(r);
    } finally {
      r.disconnect();
    }
  };
  const primaryPort = async (): Promise<number> => {
    for (const port of sentinelPorts) {
      try {
        const addr = (await ask((r) => r.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_PRIMARY_NAME), port)) as [string, string];
        return Number(addr[1]);
      } catch {
        // the next sentinel
      }
    }
    throw new Error('no sentinel answered');
  };
  const kill = async (port: number) => {
    const c = nodes.get(port);
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGKILL');
    await exited;
  };
  let stopped = false;

  return {
    url: `redis+sentinel://${sentinelPorts.map((p) => `${host}:${p}`).join(',')}/${SENTINEL_PRIMARY_NAME}`,
    host,
    nodePorts,
    sentinelPorts,
    primaryPort,
    async killPrimary() {
      const port = await primaryPort();
      await kill(port);
      return port;
    },
    async restartNode(port) {
      await kill(port);
      await startNode(port, await primaryPort().catch(() => primary));
    },
    async waitForFailover(oldPort, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const port = await primaryPort().catch(() => oldPort);
        if (port !== oldPort) {
          const role = await ask((r) => r.call('ROLE'), port).catch(() => null);
          if (Array.isArray(role) && role[0] === 'master') return port;
        }
        if (Date.now() >= deadline) throw new Error(`no failover away from port ${oldPort} within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    pidOf: (port) => nodes.get(port)?.pid,
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all([...nodes.keys()].map(kill));
      for (const s of sentinels) if (s.exitCode === null && s.signalCode === null) s.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
      process.off('exit', onExit);
    },
  };
}
