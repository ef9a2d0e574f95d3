// The primary process: opens the database actor, forks one reactor per core (cluster: the primary
// accepts and hands connections round-robin, since Node 20 has no reusePort), runs the
// switchboard between them, and coordinates shutdown.
import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../config.ts';
import { DbActor } from '../db/actor-client.ts';
import { Switchboard } from './switchboard.ts';
import { isControl, primaryTransport, type Control } from '../router/ipc.ts';

const SHUTDOWN_TIMEOUT_MS = 10_000;

export async function runPrimary(config: Config): Promise<void> {
  const log = (line: string) => console.log(line);
  const actor = new DbActor({ file: config.db, log });
  try {
    await actor.start();
  } catch (err) {
    console.error(`wizz: cannot open the database at ${config.db}: ${(err as Error).message}`);
    process.exit(1);
  }
  const switchboard = new Switchboard(actor);
  const workers = new Set<Worker>();
  let shuttingDown = false;
  let listening = 0;
  let announced = false;

  const fork = () => {
    const worker = cluster.fork();
    workers.add(worker);
    switchboard.attach(worker.id, primaryTransport(worker));
    worker.on('message', (msg) => {
      if (!isControl(msg) || msg.ctl !== 'listening') return;
      listening++;
      if (!announced && listening >= config.reactors) {
        announced = true;
        log(`wizz listening on ${config.host}:${msg.port} (${config.reactors} reactor${config.reactors > 1 ? 's' : ''}, database ${config.db})`);
      }
    });
    worker.on('exit', (code, signal) => {
      workers.delete(worker);
      switchboard.detach(worker.id);
      if (shuttingDown) return;
      log(`reactor ${worker.id} exited (${signal ?? code}); starting another`);
      fork();
    });
  };

  const shutdown = async (signal: string) => {
    if (shuttingDown) {
      log(`${signal} again: still shutting down, the database flush is not interrupted`);
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
    await actor.close();
    log('database flushed and closed; bye');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  for (let i = 0; i < config.reactors; i++) fork();
}
