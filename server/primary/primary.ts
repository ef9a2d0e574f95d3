// The primary process: opens the store (the SQLite actor, or PostgreSQL) and, with many hosts, the
// connection to Redis; forks one reactor per core (cluster: the primary accepts and hands
// connections round-robin, since Node 20 has no reusePort), runs the switchboard between them,
// keeps the host-wide connection count, and coordinates start-up failures, reactor restarts and
// shutdown.
import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../config.ts';
import { Switchboard } from './switchboard.ts';
import { chooseHub, chooseStore, nodeIdOf } from './engines.ts';
import { isControl, primaryTransport, tolerateGonePeer, type Control } from '../router/ipc.ts';
import { describeFileLimit, raiseFileLimit } from '../limits/fd-limit.ts';
import { RestartBackoff } from './backoff.ts';
import { LoopDelay, type ReactorStats } from './stats.ts';
import { closeOrphanedConnections } from './orphaned-connections.ts';

const SHUTDOWN_TIMEOUT_MS = 10_000;
/** Signals closer together than this are one press of Ctrl-C (npm and the terminal both send it). */
const SAME_PRESS_MS = 1_000;

export async function runPrimary(config: Config): Promise<void> {
  const log = (line: string) => console.log(line);
  log(describeFileLimit(raiseFileLimit(), config.maxConnections));
  const { store: actor, name: storeName } = chooseStore(config, log);
  try {
    await actor.start();
  } catch (err) {
    console.error(`wizz: cannot open the database at ${storeName}: ${(err as Error).message}`);
    process.exit(1);
  }
  const nodeId = nodeIdOf(config);
  const hubEngine = chooseHub(config, nodeId, log);
  const switchboard = new Switchboard(actor, { maxRoomMembers: config.maxRoomMembers, hub: hubEngine.build ?? undefined });
  if (config.redis !== '') {
    try {
      await hubEngine.start();
    } catch (err) {
      console.error(`wizz: cannot reach Redis at ${hubEngine.name}: ${(err as Error).message}`);
      await actor.close();
      process.exit(1);
    }
    log(`wizz ${hubEngine.name}`);
  }
  const workers = new Set<Worker>();
  const connections = new Map<number, number>(); // worker id → connections it holds
  const backoff = new RestartBackoff();
  let shuttingDown = false;
  let listening = 0;
  let serving = false;

  let countsScheduled = false;
  const shareCounts = () => {
    if (countsScheduled) return;
    countsScheduled = true;
    setImmediate(() => {
      countsScheduled = false;
      let total = 0;
      for (const n of connections.values()) total += n;
      for (const w of workers) {
        if (w.isConnected()) w.send({ ctl: 'others', count: total - (connections.get(w.id) ?? 0) } satisfies Control);
      }
    });
  };

  const fork = () => {
    const worker = cluster.fork();
    const startedAt = Date.now();
    let workerListening = false;
    workers.add(worker);
    // Before any send: a reactor that dies between two loop turns must not take the primary along.
    tolerateGonePeer(worker, `reactor ${worker.id}`, log);
    switchboard.attach(worker.id, primaryTransport(worker));
    worker.on('message', (msg) => {
      if (!isControl(msg)) return;
      if (msg.ctl === 'connections') {
        connections.set(worker.id, msg.count);
        shareCounts();
      } else if (msg.ctl === 'listen_failed') {
        if (!serving) void fail(`wizz: cannot listen: ${msg.message}`);
        else log(`reactor ${worker.id} cannot listen: ${msg.message}`);
      } else if (msg.ctl === 'sampled') {
        samples.get(msg.seq)?.(msg.stats);
      } else if (msg.ctl === 'listening') {
        workerListening = true;
        listening++;
        shareCounts();
        if (!serving && !shuttingDown && listening >= config.reactors) {
          serving = true;
          log(`wizz listening on ${config.host}:${msg.port} (${config.reactors} reactor${config.reactors > 1 ? 's' : ''}, database ${storeName}${config.redis !== '' ? `, node ${nodeId}` : ''})`);
        }
      }
    });
    worker.on('exit', (code, signal) => {
      closeOrphanedConnections(); // those handed to it that it never took
      workers.delete(worker);
      connections.delete(worker.id);
      switchboard.detach(worker.id);
      shareCounts();
      if (shuttingDown) return;
      if (!serving) {
        // Never served: a configuration or environment problem that a restart would only repeat.
        void fail(`wizz: a reactor stopped before the server was listening (${signal ?? `exit code ${code}`})`);
        return;
      }
      if (workerListening) listening--;
      const delay = backoff.next(Date.now() - startedAt);
      log(`reactor ${worker.id} exited (${signal ?? code}); starting another${delay > 0 ? ` in ${delay} ms` : ''}`);
      setTimeout(() => {
        if (!shuttingDown) fork();
      }, delay);
    });
  };

  let failing = false;
  /** Start-up failed: say why once, stop the reactors and the database, exit non-zero. */
  const fail = async (message: string) => {
    if (failing) return;
    failing = shuttingDown = true;
    console.error(message);
    for (const w of workers) w.process.kill('SIGKILL');
    await hubEngine.close();
    await actor.close();
    process.exit(1);
  };

  let lastSignalAt = 0;
  const shutdown = async (signal: string) => {
    const now = Date.now();
    const samePress = now - lastSignalAt < SAME_PRESS_MS;
    lastSignalAt = now;
    if (shuttingDown) {
      if (!samePress && !failing) log(`${signal} again: still shutting down, the database flush is not interrupted`);
      return;
    }
    shuttingDown = true;
    log(`${signal}: stopping — no new connections, finishing in-flight requests`);
    const exited = Promise.all([...workers].map((w) => new Promise<void>((resolve) => w.once('exit', () => resolve()))));
    for (const w of workers) if (w.isConnected()) w.send({ ctl: 'shutdown' } satisfies Control);
    const timer = setTimeout(() => {
      for (const w of workers) w.process.kill('SIGKILL');
    }, SHUTDOWN_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
    await hubEngine.close(); // after the reactors: their users' releases reach Redis first
    await actor.close();
    log('database flushed and closed; bye');
    process.exit(0);
  };
  // Sampling for a supervisor that forked us with an IPC channel (the soak script).
  const samples = new Map<number, (stats: ReactorStats) => void>();
  if (process.send) {
    tolerateGonePeer(process, 'the supervisor', log);
    const loop = new LoopDelay();
    process.on('message', (msg) => {
      if (!isControl(msg) || msg.ctl !== 'sample') return;
      const reactors: ReactorStats[] = [];
      const asked = [...workers].filter((w) => w.isConnected());
      const answer = () => {
        samples.delete(msg.seq);
        clearTimeout(timer);
        const primary = { ...loop.sample(), dbPending: actor.pendingCount, online: switchboard.hub.onlineCount };
        if (process.connected) process.send!({ ctl: 'server_sampled', seq: msg.seq, stats: { primary, reactors } } satisfies Control);
      };
      const timer = setTimeout(answer, 500); // a reactor too busy to answer shows up as missing
      samples.set(msg.seq, (stats) => {
        reactors.push(stats);
        if (reactors.length === asked.length) answer();
      });
      for (const w of asked) w.send({ ctl: 'sample', seq: msg.seq } satisfies Control);
      if (asked.length === 0) answer();
    });
    process.on('disconnect', () => void shutdown('disconnect'));
  }
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  for (let i = 0; i < config.reactors; i++) fork();
}
