// `npm run load:connections -- --count 10000 [--port 7777]`: opens that many connections to
// 127.0.0.1, PINGs on each, and reports how many were answered and how many were refused with
// server_full (the C10K check: with the defaults, 10,000 connections get 0 refusals).
// Needs an open-file limit above --count in this process too (ulimit -n).
import { WizzClient } from '../client/wizz-client.ts';
import { parseFlags } from '../util/cli.ts';
import { Req, Srv } from '../protocol/codes.ts';

const values = parseFlags(
  { port: { type: 'string', default: '7777' }, count: { type: 'string', default: '10000' } },
  'usage: npm run load:connections -- [--count 10000] [--port 7777]   (opens and PINGs that many connections to 127.0.0.1)',
);
const port = Number(values.port);
const count = Number(values.count);
if (!Number.isInteger(count) || count < 1 || !Number.isInteger(port) || port < 1 || port > 65_535) {
  console.error('--count must be a positive integer and --port a TCP port');
  process.exit(2);
}
const clients: WizzClient[] = [];
const started = performance.now();
let failedToConnect = 0;
for (let i = 0; i < count; i += 200) {
  const batch = await Promise.allSettled(Array.from({ length: Math.min(200, count - i) }, () => WizzClient.connect(port, '127.0.0.1', 30_000)));
  for (const r of batch) if (r.status === 'fulfilled') clients.push(r.value);
  else failedToConnect++;
}
const tally: Record<string, number> = {};
await Promise.all(
  clients.map(async (c) => {
    const r = await Promise.race([c.request(Req.PING, {}, 60_000), c.nextPush((f) => f.type === Srv.ERROR, 60_000)]).catch(() => null);
    const key = !r ? 'no answer' : r.type === Srv.OK ? 'answered' : String(r.body.code);
    tally[key] = (tally[key] ?? 0) + 1;
  }),
);
console.log(`${count} connections in ${((performance.now() - started) / 1000).toFixed(1)} s: ${Object.entries(tally).map(([k, n]) => `${k} ${n}`).join(', ')}${failedToConnect ? `, could not connect ${failedToConnect}` : ''}`);
await Promise.all(clients.map((c) => c.close()));
process.exit(tally.answered === count ? 0 : 1);
