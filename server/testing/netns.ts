// Where the hosts of a multi-host test live. As root with `ip netns` usable: one network namespace
// per host, each joined to a bridge in the root namespace by a veth pair, with its own private
// address (10.77.K.10+i; the bridge, where Redis and PostgreSQL listen, is 10.77.K.1) — hosts that
// share nothing but the network, as on real machines. Otherwise: distinct loopback addresses
// (127.0.0.11, .12, …) in this namespace, and the services on 127.0.0.1. `mode` says which, for
// the tests to print. Everything created here is named after this process (pid) and removed by
// teardown(), also when a test fails, and at exit at the latest.
import { execFileSync } from 'node:child_process';

export type AddressMode = 'netns' | 'loopback';

export interface HostPlace {
  /** host-1, host-2, … */
  name: string;
  /** The address the host listens on, reachable from this process. */
  address: string;
  /** The namespace it runs in (netns mode only). */
  netns?: string;
  /** argv that runs `command` in the host's place: `ip netns exec NS …` or the command itself. */
  wrap(command: string[]): string[];
}

export interface Network {
  mode: AddressMode;
  /** One line for the test log: the mode and the addresses, or why netns was not used. */
  description: string;
  /** Where Redis and PostgreSQL must listen for every host to reach them. */
  serviceAddress: string;
  hosts: HostPlace[];
  /** Kills what still runs inside the namespaces and removes them and the bridge. Idempotent. */
  teardown(): void;
}

export interface NetworkOptions {
  /** 'auto' (default): netns when possible. 'loopback': never netns. 'localhost': every host on 127.0.0.1. */
  mode?: 'auto' | 'loopback' | 'localhost';
}

const SUBNET_PREFIX = '10.77';
let created = 0;

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
}

function tryIp(...args: string[]): boolean {
  try {
    ip(...args);
    return true;
  } catch {
    return false;
  }
}

/** Why netns mode cannot be used here, or undefined when it can (a quick create/delete probe). */
export function netnsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not running as root';
  const probe = `wizz-probe-${process.pid}`;
  try {
    ip('netns', 'add', probe);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    return e.code === 'ENOENT' ? 'iproute2 (`ip`) is not installed' : `\`ip netns add\` failed: ${(e.stderr ?? e.message).trim()}`;
  }
  try {
    ip('netns', 'exec', probe, 'ip', 'link', 'set', 'lo', 'up');
    const bridge = `wzq${tag()}`;
    if (!tryIp('link', 'add', bridge, 'type', 'bridge')) return 'cannot create a bridge';
    tryIp('link', 'del', bridge);
    return undefined;
  } catch (err) {
    return `\`ip netns exec\` failed: ${((err as { stderr?: string }).stderr ?? (err as Error).message).trim()}`;
  } finally {
    tryIp('netns', 'del', probe);
  }
}

/** A short unique tag for interface names (at most 15 characters with their prefixes). */
function tag(): string {
  return (process.pid * 100 + (created % 100)).toString(36);
}

/** A 10.77.K.0/24 that no interface of this machine uses yet. */
function freeSubnet(): number {
  const used = ip('-o', '-4', 'addr', 'show');
  const start = 20 + (process.pid % 200);
  for (let j = 0; j < 230; j++) {
    const k = 20 + ((start - 20 + j) % 230);
    if (!used.includes(` ${SUBNET_PREFIX}.${k}.`)) return k;
  }
  throw new Error(`no free ${SUBNET_PREFIX}.K.0/24 subnet`);
}

/** Removes namespaces and bridges left by earlier runs whose process is gone (a crashed test). */
function sweepStale(): void {
  let list = '';
  try {
    list = ip('netns', 'list');
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const m = /^wizz-(\d+)-\d+-h\d+/.exec(line.trim());
    if (m && !alive(Number(m[1]))) removeNamespace(line.trim().split(/\s+/)[0]!);
  }
  const links = ip('-o', 'link', 'show', 'type', 'bridge');
  for (const m of links.matchAll(/^\d+: wzb([0-9a-z]+)[:@]/gm)) {
    const pid = Math.floor(parseInt(m[1]!, 36) / 100);
    if (!alive(pid)) tryIp('link', 'del', `wzb${m[1]}`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills whatever still runs in the namespace (only processes a test started live there), then deletes it. */
function removeNamespace(ns: string): void {
  let pids: number[] = [];
  try {
    pids = ip('netns', 'pids', ns).split('\n').filter(Boolean).map(Number);
  } catch {
    /* already gone */
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* exited meanwhile */
    }
  }
  tryIp('netns', 'del', ns);
}

function loopback(n: number, reason: string, sameAddress: boolean): Network {
  const hosts = Array.from({ length: n }, (_, i) => ({
    name: `host-${i + 1}`,
    address: sameAddress ? '127.0.0.1' : `127.0.0.${11 + i}`,
    wrap: (command: string[]) => command,
  }));
  const where = hosts.map((h) => h.address).join(', ');
  return {
    mode: 'loopback',
    description: `address mode: ${sameAddress ? '127.0.0.1' : '127.0.0.x'} (${reason}); hosts on ${where}, services on 127.0.0.1`,
    serviceAddress: '127.0.0.1',
    hosts,
    teardown: () => {},
  };
}

/**
 * Creates the places for `n` hosts. In netns mode a failure half-way removes what was made and
 * falls back to loopback addresses, saying why.
 */
export function createNetwork(n: number, options: NetworkOptions = {}): Network {
  const mode = options.mode ?? 'auto';
  if (mode === 'localhost') return loopback(n, 'asked for one address', true);
  if (mode === 'loopback') return loopback(n, 'asked for loopback addresses', false);
  const why = netnsUnavailable();
  if (why) return loopback(n, `no netns: ${why}`, false);
  sweepStale();

  const t = tag();
  const run = created++;
  const k = freeSubnet();
  const bridge = `wzb${t}`;
  const namespaces: string[] = [];
  let removed = false;
  const teardown = () => {
    if (removed) return;
    removed = true;
    for (const ns of namespaces) removeNamespace(ns); // deleting a namespace deletes its veth end, and so the pair
    tryIp('link', 'del', bridge);
    process.off('exit', teardown);
  };
  process.on('exit', teardown);
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${SUBNET_PREFIX}.${k}.1/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    const hosts: HostPlace[] = [];
    for (let i = 1; i <= n; i++) {
      const ns = `wizz-${process.pid}-${run}-h${i}`;
      const outer = `wzv${t}h${i}`;
      const inner = `wzp${t}h${i}`;
      const address = `${SUBNET_PREFIX}.${k}.${10 + i}`;
      ip('netns', 'add', ns);
      namespaces.push(ns);
      ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner);
      ip('link', 'set', inner, 'netns', ns);
      ip('link', 'set', outer, 'master', bridge);
      ip('link', 'set', outer, 'up');
      ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
      ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${address}/24`, 'dev', inner);
      ip('netns', 'exec', ns, 'ip', 'link', 'set', inner, 'up');
      hosts.push({ name: `host-${i}`, address, netns: ns, wrap: (command) => ['ip', 'netns', 'exec', ns, ...command] });
    }
    return {
      mode: 'netns',
      description: `address mode: netns (one namespace per host on bridge ${bridge}); hosts on ${hosts.map((h) => h.address).join(', ')}, services on ${SUBNET_PREFIX}.${k}.1`,
      serviceAddress: `${SUBNET_PREFIX}.${k}.1`,
      hosts,
      teardown,
    };
  } catch (err) {
    teardown();
    const reason = ((err as { stderr?: string }).stderr ?? (err as Error).message).trim();
    return loopback(n, `netns setup failed: ${reason}`, false);
  }
}
