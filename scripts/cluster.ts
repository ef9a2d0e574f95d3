// `npm run cluster -- --hosts 3 [--base-port 7701] [--reactors 1] [--lease 5] [--sentinel] [--quiet]`: a local
// demo of many wizz hosts acting as one — a throwaway redis-server and PostgreSQL (temp dirs, free
// ports; Debian packages redis-server and postgresql), then N hosts on 127.0.0.1, each with its own
// port. With --sentinel, Redis is a primary, a replica and three sentinels (kill the primary and
// watch the hosts follow the promoted replica). Connect a client to any of them; Ctrl-C (or SIGTERM) stops everything and removes the temp
// dirs.
import { parseArgs } from 'node:util';
import { startCluster, type Cluster } from '../server/testing/cluster.ts';

const USAGE = 'usage: npm run cluster -- [--hosts 3] [--base-port P] [--reactors 1] [--lease S] [--sentinel] [--quiet]';
let values;
try {
  ({ values } = parseArgs({
    options: {
      hosts: { type: 'string', default: '3' },
      'base-port': { type: 'string' },
      reactors: { type: 'string', default: '1' },
      lease: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      sentinel: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  }));
} catch (err) {
  console.error(`cluster: ${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

function positive(name: string, value: string | undefined, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    console.error(`cluster: --${name} must be an integer from 1 to ${max}, got "${value}"`);
    process.exit(2);
  }
  return n;
}

const hosts = positive('hosts', values.hosts, 32)!;
const basePort = positive('base-port', values['base-port'], 65_535 - hosts);
const reactors = positive('reactors', values.reactors, 64)!;
const leaseS = positive('lease', values.lease, 3_600);

let cluster: Cluster | undefined;
let stopping = false;
const stop = async (why: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\n${why}: stopping the hosts, Redis and PostgreSQL…`);
  await cluster?.stopAll();
  console.log('stopped; temp dirs removed');
  process.exit(0);
};
// Before anything starts, so a Ctrl-C during start-up also cleans up (startCluster undoes what it made).
let interruptedDuringStart = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    if (cluster) void stop(signal);
    else interruptedDuringStart = true;
  });
}

console.log(`starting redis-server, PostgreSQL and ${hosts} wizz host${hosts > 1 ? 's' : ''}…`);
try {
  cluster = await startCluster({
    hosts,
    reactors,
    leaseS,
    redis: values.sentinel ? 'sentinel' : 'single',
    network: 'localhost',
    ports: basePort ? Array.from({ length: hosts }, (_, i) => basePort + i) : undefined,
    onOutput: values.quiet ? undefined : (host, line) => console.log(`[${host}] ${line}`),
  });
} catch (err) {
  const message = (err as Error).message;
  console.error(`cluster: ${message}`);
  if (/Debian package|ENOENT/i.test(message)) {
    console.error('the demo needs two Debian packages: sudo apt-get install redis-server postgresql');
  }
  process.exit(1);
}
if (interruptedDuringStart) await stop('interrupted');

console.log(`
${cluster.sentinel ? `redis       ${cluster.sentinel.url}
            primary on port ${await cluster.sentinel.primaryPort()}; try: kill -9 $(pgrep -f 'redis-server .*:${await cluster.sentinel.primaryPort()}')` : `redis       ${cluster.redis.url}`}
postgresql  ${cluster.postgres.url}
${cluster.hosts.map((h) => `${h.name.padEnd(11)} ${h.address}:${h.port}   npm run client -- --port ${h.port}`).join('\n')}

Every host serves every user: register on one, log in on another, DM someone logged in elsewhere,
join the same room from two hosts. Ctrl-C stops everything.`);

// A host that dies on its own is reported; the demo goes on with the others. (The interval also
// keeps the demo running until a signal.)
const reported = new Set<string>();
setInterval(() => {
  for (const h of cluster!.hosts) {
    if (!h.running && !stopping && !reported.has(h.name)) {
      reported.add(h.name);
      console.log(`${h.name} is no longer running (the others go on)`);
    }
  }
}, 1_000);
