// The nemesis: faults as data. Each fault is one entry — the target kind it applies to, what it
// does, and how it is healed. A plan names faults; the runner records each start and end in the
// history, so a story can say what was broken while a request was in flight. Adding a fault (Redis
// Sentinel failover, say) is adding an entry here.
import Database from 'better-sqlite3';
import { ClusterTarget, HarnessTarget, ProcessTarget, childrenOf, signal, type RedisMode, type Target, type TargetKind } from './targets.ts';

export interface ActiveFault {
  /** What exactly was done (which pid, which host). */
  detail: string;
  /** Undoes it (restart, SIGCONT, unlock); resolves when done. */
  heal(): Promise<void>;
}

export interface Fault {
  name: string;
  on: TargetKind;
  /** Many hosts only: the Redis it needs — one redis-server, or a primary and replica under Sentinel. */
  redis?: RedisMode;
  /** One line for --help and the story. */
  what: string;
  /** `which` picks a host or a process, modulo how many there are; `ms` is how long it lasts. */
  start(target: Target, which: number, ms: number): Promise<ActiveFault>;
}

const healed = async () => {};
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Holds a write lock on a SQLite file from outside the server (another process's transaction would do the same). */
function lockSqlite(file: string): ActiveFault {
  const db = new Database(file, { timeout: 0 });
  try {
    db.exec('BEGIN IMMEDIATE');
  } catch (err) {
    db.close();
    return { detail: `could not take the lock: ${(err as Error).message}`, heal: healed };
  }
  return {
    detail: `BEGIN IMMEDIATE held on ${file}`,
    heal: async () => {
      db.exec('ROLLBACK');
      db.close();
    },
  };
}

export const FAULTS: Fault[] = [
  // ---- one host, the real process --------------------------------------------------------------
  {
    name: 'reactor-kill',
    on: 'process',
    what: 'kill -9 of one reactor process (the primary replaces it)',
    async start(t, which) {
      const target = t as ProcessTarget;
      const reactors = target.running ? childrenOf(target.server.child.pid!) : [];
      const pid = reactors[which % Math.max(1, reactors.length)];
      if (pid === undefined) return { detail: 'no reactor running', heal: healed };
      signal(pid, 'SIGCONT'); // a stopped process dies only once continued
      signal(pid, 'SIGKILL');
      return { detail: `reactor pid ${pid}`, heal: () => target.ensureUp() };
    },
  },
  {
    name: 'server-kill',
    on: 'process',
    what: 'kill -9 of every server process, restarted on the same database and port when healed',
    async start(t) {
      const target = t as ProcessTarget;
      const pids = target.pids();
      for (const pid of pids) signal(pid, 'SIGKILL');
      for (const pid of pids) signal(pid, 'SIGCONT');
      if (pids.length > 0) await target.server.exited;
      return { detail: `pids ${pids.join(', ')}`, heal: () => target.ensureUp() };
    },
  },
  {
    name: 'server-pause',
    on: 'process',
    what: 'SIGSTOP of every server process, SIGCONT when healed',
    async start(t) {
      const target = t as ProcessTarget;
      const pids = target.pids();
      for (const pid of pids) signal(pid, 'SIGSTOP');
      return {
        detail: `pids ${pids.join(', ')}`,
        heal: async () => void pids.forEach((pid) => signal(pid, 'SIGCONT')),
      };
    },
  },
  {
    name: 'sqlite-lock',
    on: 'process',
    what: 'an outside write lock (BEGIN IMMEDIATE) on the SQLite file',
    async start(t) {
      return lockSqlite((t as ProcessTarget).dbFile);
    },
  },
  // ---- one host, in this process -----------------------------------------------------------------
  {
    name: 'db-kill',
    on: 'harness',
    what: 'the database actor thread killed (terminate(); the actor restarts it)',
    async start(t) {
      const target = t as HarnessTarget;
      await target.killDbThread();
      return { detail: 'worker.terminate()', heal: () => target.ensureUp() };
    },
  },
  {
    name: 'sqlite-lock',
    on: 'harness',
    what: 'an outside write lock (BEGIN IMMEDIATE) on the SQLite file',
    async start(t) {
      return lockSqlite((t as HarnessTarget).dbFile);
    },
  },
  // ---- many hosts ---------------------------------------------------------------------------------
  {
    name: 'redis-stall',
    on: 'cluster',
    redis: 'single',
    what: 'SIGSTOP of redis-server, SIGCONT when healed',
    async start(t) {
      const { redis } = (t as ClusterTarget).cluster;
      const pid = redis.pid;
      if (pid === undefined) return { detail: 'redis not running', heal: healed };
      signal(pid, 'SIGSTOP');
      return { detail: `redis pid ${pid}`, heal: async () => void signal(pid, 'SIGCONT') };
    },
  },
  {
    name: 'redis-restart',
    on: 'cluster',
    redis: 'single',
    what: 'redis-server killed (-9), started empty on the same port when healed',
    async start(t) {
      const { redis } = (t as ClusterTarget).cluster;
      if (redis.pid !== undefined) signal(redis.pid, 'SIGCONT');
      await redis.kill();
      return { detail: 'redis killed; empty when back', heal: () => redis.restart() };
    },
  },
  {
    name: 'redis-failover',
    on: 'cluster',
    redis: 'sentinel',
    what: 'kill -9 of the Redis primary: Sentinel promotes the replica; the old primary comes back (empty) as a replica when healed',
    async start(t) {
      const sentinel = (t as ClusterTarget).cluster.sentinel!;
      const port = await sentinel.killPrimary();
      return {
        detail: `the primary on port ${port}`,
        heal: async () => {
          await sentinel.waitForFailover(port, 30_000);
          await sentinel.restartNode(port);
        },
      };
    },
  },
  {
    name: 'postgres-restart',
    on: 'cluster',
    what: 'PostgreSQL stopped as a crash would, started again (same data) when healed',
    async start(t) {
      const { postgres } = (t as ClusterTarget).cluster;
      postgres.resume();
      await postgres.kill();
      return { detail: 'postgres killed', heal: () => postgres.start() };
    },
  },
  {
    name: 'host-kill',
    on: 'cluster',
    what: 'kill -9 of one host (primary and reactors), restarted when healed',
    async start(t, which) {
      const target = t as ClusterTarget;
      const host = target.cluster.hosts[which % target.hosts]!;
      if (host.pid !== undefined) signal(-host.pid, 'SIGCONT');
      await host.kill('SIGKILL');
      return { detail: host.name, heal: () => host.restart() };
    },
  },
  {
    name: 'host-pause',
    on: 'cluster',
    what: 'SIGSTOP of one whole host, SIGCONT when healed',
    async start(t, which) {
      const target = t as ClusterTarget;
      const host = target.cluster.hosts[which % target.hosts]!;
      const pid = host.pid;
      if (pid === undefined) return { detail: `${host.name} not running`, heal: healed };
      signal(-pid, 'SIGSTOP');
      return { detail: host.name, heal: async () => void signal(-pid, 'SIGCONT') };
    },
  },
];

export function faultsFor(kind: TargetKind, redis: RedisMode = 'single'): Fault[] {
  return FAULTS.filter((f) => f.on === kind && (f.redis === undefined || f.redis === redis));
}

export function findFault(kind: TargetKind, name: string): Fault | undefined {
  return FAULTS.find((f) => f.on === kind && f.name === name);
}

export { wait };
