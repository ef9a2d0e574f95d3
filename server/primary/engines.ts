// Which engines the primary runs on. One host (the default): the SQLite actor and the in-memory
// Hub. Many hosts: PostgreSQL for the store (--database) and Redis between hosts (--redis). The
// reactors never know which: they reach both through the switchboard.
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.ts';
import { DbActor } from '../db/actor-client.ts';
import { PgStore } from '../db/pg-store.ts';
import { RedisHub } from '../cluster/redis-hub.ts';
import type { Emit } from '../router/hub.ts';
import type { HubBackend } from '../router/ops.ts';
import type { DbCaller } from './switchboard.ts';
import { redisBackend } from './redis-backend.ts';
import { redactUrl } from '../util/redact-url.ts';

export interface StoreEngine extends DbCaller {
  start(): Promise<void>;
  close(): Promise<void>;
  readonly pendingCount: number;
}

/** The store the config asks for, and how to name it in the start-up line. */
export function chooseStore(config: Config, log: (line: string) => void): { store: StoreEngine; name: string } {
  if (config.database !== '') {
    return { store: new PgStore({ url: config.database, log, maxPending: config.dbQueue }), name: `PostgreSQL ${redactUrl(config.database)}` };
  }
  return { store: new DbActor({ file: config.db, log, maxPending: config.dbQueue }), name: config.db };
}

/** This host's name among many: the configured one, else a fresh random one (printed at start). */
export function nodeIdOf(config: Config): string {
  return config.nodeId !== '' ? config.nodeId : `wizz-${randomBytes(4).toString('hex')}`;
}

export interface HubEngine {
  /** For Switchboard's `hub` option; null: the in-memory Hub of one host. */
  build: ((emit: Emit) => HubBackend) | null;
  /** Connects (many hosts) — after the switchboard is built. */
  start(): Promise<void>;
  close(): Promise<void>;
  name: string;
}

export function chooseHub(config: Config, nodeId: string, log: (line: string) => void): HubEngine {
  if (config.redis === '') return { build: null, start: async () => {}, close: async () => {}, name: 'one host' };
  let hub: RedisHub | null = null;
  return {
    build: (emit) => {
      hub = new RedisHub({
        url: config.redis,
        nodeId,
        emit,
        maxRoomMembers: config.maxRoomMembers,
        leaseMs: config.presenceLeaseS * 1000,
        log,
      });
      return redisBackend(hub, log);
    },
    start: async () => hub?.start(),
    close: async () => hub?.close(),
    name: `node ${nodeId} on Redis ${redactUrl(config.redis)}`,
  };
}
