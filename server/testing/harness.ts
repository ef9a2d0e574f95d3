// The whole server in one process, for tests: the database actor thread, the switchboard (hub),
// and N reactors each on its own ephemeral port, wired by in-memory links that batch exactly as
// the cluster IPC links do. The real multi-process server is main.ts; tests start that too.
import { DbActor } from '../db/actor-client.ts';
import { LinkDb } from '../db/db.ts';
import { LinkClient, memoryPair } from '../router/link.ts';
import { HubRouter } from '../router/hub-router.ts';
import { Switchboard } from '../primary/switchboard.ts';
import { Reactor, type ReactorLimits } from '../reactor/reactor.ts';

export interface HarnessOptions {
  dbFile: string;
  reactors?: number;
  limits?: Partial<ReactorLimits>;
  pragmas?: string[];
  restartDelayMs?: number;
}

export interface Harness {
  ports: number[];
  actor: DbActor;
  switchboard: Switchboard;
  reactors: Reactor[];
  stop(): Promise<void>;
}

export async function startHarness(options: HarnessOptions): Promise<Harness> {
  const actor = new DbActor({
    file: options.dbFile,
    pragmas: options.pragmas,
    restartDelayMs: options.restartDelayMs ?? 300,
    log: () => {},
  });
  await actor.start();
  const switchboard = new Switchboard(actor);
  const reactors: Reactor[] = [];
  const ports: number[] = [];
  for (let i = 1; i <= (options.reactors ?? 1); i++) {
    const { reactorSide, primarySide } = memoryPair();
    switchboard.attach(i, primarySide);
    const link = new LinkClient(reactorSide);
    const reactor = new Reactor({
      router: new HubRouter(link),
      db: new LinkDb(link),
      limits: options.limits,
      scryptLogN: 10, // fast hashes: tests log in a lot
      log: () => {},
    });
    reactors.push(reactor);
    ports.push(await reactor.listen('127.0.0.1', 0));
  }
  return {
    ports,
    actor,
    switchboard,
    reactors,
    async stop() {
      await Promise.all(reactors.map((r) => r.shutdown(2_000)));
      await actor.close();
    },
  };
}
