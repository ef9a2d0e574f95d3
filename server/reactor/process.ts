// A reactor process (a cluster worker): one Reactor whose router and db are reached over IPC.
// Signals are the primary's business — under a terminal every process in the group gets Ctrl-C,
// and a reactor that died on it would drop in-flight requests the primary means to finish.
import type { Config } from '../config.ts';
import { LinkClient } from '../router/link.ts';
import { HubRouter } from '../router/hub-router.ts';
import { isControl, workerTransport, type Control } from '../router/ipc.ts';
import { LinkDb } from '../db/db.ts';
import { Reactor } from './reactor.ts';

export async function runReactorProcess(config: Config): Promise<void> {
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
  const link = new LinkClient(workerTransport());
  const reactor = new Reactor({
    router: new HubRouter(link),
    db: new LinkDb(link),
    limits: { maxConnections: Math.ceil(config.maxConnections / config.reactors) },
  });
  let stopping = false;
  process.on('message', async (msg) => {
    if (!isControl(msg) || msg.ctl !== 'shutdown' || stopping) return;
    stopping = true;
    await reactor.shutdown();
    process.send!({ ctl: 'drained' } satisfies Control, () => process.exit(0));
  });
  process.on('disconnect', () => {
    // The primary is gone: nothing can be routed or stored any more.
    link.failAll('unavailable', 'the server is stopping');
    if (!stopping) process.exit(1);
  });
  const port = await reactor.listen(config.host, config.port);
  process.send!({ ctl: 'listening', port } satisfies Control);
}
