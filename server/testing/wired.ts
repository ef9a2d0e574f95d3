// One reactor wired to the real switchboard and database actor in this process, with seams the
// harness does not offer: a wrapper around the reactor's Db and taps on both directions of its
// link. For tests of what happens when the database or the primary misbehave or race.
import path from 'node:path';
import { DbActor } from '../db/actor-client.ts';
import { LinkDb, type Db } from '../db/db.ts';
import { Switchboard } from '../primary/switchboard.ts';
import { LinkClient, memoryPair, type DownMsg, type Transport, type UpMsg } from '../router/link.ts';
import { HubRouter } from '../router/hub-router.ts';
import type { Router } from '../router/router.ts';
import { Reactor, type ReactorLimits } from '../reactor/reactor.ts';
import { tempDir } from './helpers.ts';

export interface WiredOptions {
  wrapDb?: (db: Db) => Db;
  wrapRouter?: (router: Router) => Router;
  /** Rewrites each batch the primary sends the reactor. */
  tapDown?: (batch: DownMsg[]) => DownMsg[];
  log?: (line: string) => void;
  limits?: Partial<ReactorLimits>;
}

export interface Wired {
  port: number;
  reactor: Reactor;
  stop(): Promise<void>;
}

export async function startWired(options: WiredOptions = {}): Promise<Wired> {
  const actor = new DbActor({ file: path.join(tempDir(), 'wizz.db'), log: () => {} });
  await actor.start();
  const switchboard = new Switchboard(actor);
  const { reactorSide, primarySide } = memoryPair();
  const tapped: Transport<DownMsg, UpMsg> = {
    send: (batch) => primarySide.send(options.tapDown ? options.tapDown(batch) : batch),
    onReceive: (h) => primarySide.onReceive(h),
  };
  switchboard.attach(1, tapped);
  const link = new LinkClient(reactorSide);
  const db = new LinkDb(link);
  const reactor = new Reactor({
    router: options.wrapRouter ? options.wrapRouter(new HubRouter(link)) : new HubRouter(link),
    db: options.wrapDb ? options.wrapDb(db) : db,
    scryptLogN: 10,
    limits: options.limits,
    log: options.log ?? ((line) => console.error(line)),
    policy: { requests: { burst: 0, refillPerS: 0 } }, // these tests are not about rate limits
  });
  const port = await reactor.listen('127.0.0.1', 0);
  return {
    port,
    reactor,
    async stop() {
      await reactor.shutdown(2_000);
      await actor.close();
    },
  };
}

/** A Db that behaves like `db` except for the methods in `override`. */
export function dbWith(db: Db, override: Partial<Db>): Db {
  return withOverrides(db, override);
}

/** A Router that behaves like `router` except for the methods in `override`. */
export function routerWith(router: Router, override: Partial<Router>): Router {
  return withOverrides(router, override);
}

function withOverrides<T extends object>(db: T, override: Partial<T>): T {
  return new Proxy(db, {
    get(target, prop, receiver) {
      if (Object.hasOwn(override, prop)) return override[prop as keyof T];
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
