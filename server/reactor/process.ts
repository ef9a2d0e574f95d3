// A reactor process (a cluster worker): one Reactor whose router and db are reached over IPC.
// Signals are the primary's business — under a terminal every process in the group gets Ctrl-C,
// and a reactor that died on it would drop in-flight requests the primary means to finish.
import { policyOf, reactorLimitsOf, type Config } from '../config.ts';
import { LinkClient } from '../router/link.ts';
import { HubRouter } from '../router/hub-router.ts';
import { isControl, tolerateGonePeer, workerTransport, type Control } from '../router/ipc.ts';
import { LinkDb } from '../db/db.ts';
import { Reactor } from './reactor.ts';
import { LoopDelay } from '../primary/stats.ts';
import { socketBudget } from '../limits/fd-limit.ts';

export async function runReactorProcess(config: Config): Promise<void> {
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => {});
  // A primary that is gone makes every send fail; 'disconnect' below decides what happens next.
  tolerateGonePeer(process, 'the primary', (line) => console.error(`reactor ${process.pid}: ${line}`));
  const control = (msg: Control) => {
    if (process.connected) process.send!(msg);
  };
  const link = new LinkClient(workerTransport());
  // max connections counts every reactor: the primary keeps us told how many the others hold.
  let others = 0;
  const reactor = new Reactor({
    router: new HubRouter(link, { acknowledgedSay: config.redis !== '' }),
    db: new LinkDb(link),
    // Never more sockets than this process's open-file limit leaves room for (see socketBudget).
    limits: { ...reactorLimitsOf(config), maxSockets: socketBudget() },
    policy: policyOf(config),
    scryptLogN: config.scryptLogN,
    admit: (local) => local + others < config.maxConnections,
    onConnectionCount: (count) => control({ ctl: 'connections', count }),
  });
  let stopping = false;
  const loop = new LoopDelay();
  process.on('message', async (msg) => {
    if (!isControl(msg)) return;
    if (msg.ctl === 'others') others = msg.count;
    if (msg.ctl === 'sample') {
      const usage = reactor.stats();
      const stats = { ...loop.sample(), connections: usage.connections, poolLiveBytes: usage.pool.liveBytes, poolSlabsPinned: usage.pool.slabsPinned };
      control({ ctl: 'sampled', seq: msg.seq, stats });
    }
    if (msg.ctl !== 'shutdown' || stopping) return;
    stopping = true;
    await reactor.shutdown();
    process.send!({ ctl: 'drained' } satisfies Control, () => process.exit(0));
  });
  process.on('disconnect', () => {
    // The primary is gone: nothing can be routed or stored any more.
    link.failAll('unavailable', 'the server is stopping');
    if (!stopping) process.exit(1);
  });
  let port: number;
  try {
    port = await reactor.listen(config.host, config.port);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'EADDRINUSE' ? `${config.host}:${config.port} is already in use` : e.code === 'EACCES' ? `no permission to listen on ${config.host}:${config.port}` : e.message;
    process.send!({ ctl: 'listen_failed', message: why } satisfies Control, () => process.exit(1));
    return;
  }
  control({ ctl: 'listening', port });
}
