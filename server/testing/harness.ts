// The whole server in one process, for tests: the database actor thread, the switchboard (hub),
// and N reactors each on its own ephemeral port, wired by in-memory links that batch exactly as
// the cluster IPC links do. The real multi-process server is main.ts; tests start that too.
import { DbActor } from '../db/actor-client.ts';
import { LinkDb } from '../db/db.ts';
import { LinkClient, memoryPair } from '../router/link.ts';
import { HubRouter } from '../router/hub-router.ts';
import { Switchboard } from '../primary/switchboard.ts';
import { Reactor, type ReactorLimits } from '../reactor/reactor.ts';
import type { ActorOptions } from '../db/actor-client.ts';
import type { Policy } from '../limits/policy.ts';

export interface HarnessOptions {
  dbFile: string;
  /** Where the reactors report bugs they survived (a failed request, event or connection); default: nowhere. */
  log?: (line: string) => void;
  reactors?: number;
  limits?: Partial<ReactorLimits>;
  pragmas?: string[];
  restartDelayMs?: number;
  /** Limits of limits/policy.ts (the harness keeps its defaults unless a test names them). */
  policy?: Partial<Policy>;
  /** Connections of all reactors together, as the cluster counts them. */
  maxConnections?: number;
  maxRoomMembers?: number;
  /** log2 of scrypt's N (default 10: fast hashes, tests log in a lot). */
  scryptLogN?: number;
  /** Database requests waiting at most, how the actor thread is started, where it logs (default: nowhere). */
  actor?: Pick<ActorOptions, 'maxPending' | 'spawn' | 'log'>;
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
    ...options.actor,
  });
  await actor.start();
  const switchboard = new Switchboard(actor, { maxRoomMembers: options.maxRoomMembers });
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
      scryptLogN: options.scryptLogN ?? 10, // fast hashes: tests log in a lot
      log: options.log ?? (() => {}),
      // Tests log in from one address, many at once: the hash gate queues them all unless a test
      // is about the gate (limits/hash-gate.ts has the production bounds).
      policy: { hashGate: { concurrency: 2, maxQueued: 100_000, maxQueuedPerAddress: 100_000 }, ...options.policy },
      ...(options.maxConnections === undefined
        ? {}
        : { admit: () => reactors.reduce((n, r) => n + r.connectionCount, 0) < options.maxConnections! }),
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
