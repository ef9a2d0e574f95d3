// Configuration: embedded defaults, overridden by WIZZ_* environment variables, overridden by the
// same-named flags (--host, --port, --db, --reactors, --max-connections, and the limits below).
// SETTINGS is the one list: the parser, `--help` and docs/server/guarantees.md all follow it.
import os from 'node:os';
import { DEFAULT_MAX_ROOM_MEMBERS, DEFAULT_POLICY, type Policy } from './limits/policy.ts';
import { DEFAULT_SCRYPT } from './db/password.ts';
import { DEFAULT_HASH_GATE, hashConcurrencyFor } from './limits/hash-gate.ts';
import { DEFAULT_LIMITS, type ReactorLimits } from './reactor/reactor.ts';

export interface Config {
  host: string;
  port: number;
  db: string;
  reactors: number;
  /** Connections held by all reactors together. */
  maxConnections: number;
  loginTimeoutS: number;
  idleTimeoutS: number;
  stallTimeoutS: number;
  rateBurst: number;
  rateRefill: number;
  failedLoginsPerName: number;
  slowLoginsPerName: number;
  failedLoginsPerNameAddress: number;
  failedLoginsPerAddress: number;
  failedResumesPerAddress: number;
  registersPerAddress: number;
  sessionTtlS: number;
  hashConcurrency: number;
  hashQueue: number;
  maxRoomsPerUser: number;
  maxRoomMembers: number;
  scryptLogN: number;
  dbQueue: number;
  /** Empty: one host. Otherwise hosts route between each other through this Redis. */
  redis: string;
  /** Empty: the embedded SQLite file `db`. Otherwise the shared PostgreSQL store. */
  database: string;
  /** Names this host in logs and presence leases; empty: the primary picks a random one. */
  nodeId: string;
  /** Seconds after which a silent host's users count as gone (many hosts only). */
  presenceLeaseS: number;
}

interface Setting {
  key: keyof Config;
  flag: string;
  env: string;
  /** What it bounds, for --help and the docs. */
  help: string;
  kind: 'string' | 'integer';
  fallback: () => string | number;
  min?: number;
  max?: number;
  /** A string setting's accepted form, and how to describe it when the value does not match. */
  pattern?: { re: RegExp; expected: string };
}

const int = (key: keyof Config, flag: string, env: string, fallback: number | (() => number), min: number, max: number, help: string): Setting => ({
  key,
  flag,
  env,
  help,
  kind: 'integer',
  fallback: typeof fallback === 'function' ? fallback : () => fallback,
  min,
  max,
});

export const SETTINGS: Setting[] = [
  { key: 'host', flag: 'host', env: 'WIZZ_HOST', kind: 'string', fallback: () => '127.0.0.1', help: 'address to listen on' },
  int('port', 'port', 'WIZZ_PORT', 7777, 0, 65_535, 'TCP port (0: any free port)'),
  { key: 'db', flag: 'db', env: 'WIZZ_DB', kind: 'string', fallback: () => './data/wizz.db', help: 'SQLite database file' },
  int('reactors', 'reactors', 'WIZZ_REACTORS', () => os.availableParallelism(), 1, 256, 'reactor processes (default: one per core)'),
  int('maxConnections', 'max-connections', 'WIZZ_MAX_CONNECTIONS', 16_384, 1, 1_000_000, 'connections, all reactors together (server_full beyond)'),
  int('loginTimeoutS', 'login-timeout', 'WIZZ_LOGIN_TIMEOUT', DEFAULT_POLICY.loginTimeoutMs / 1000, 0, 86_400, 'seconds a connection may stay without LOGIN (0: no limit)'),
  int('idleTimeoutS', 'idle-timeout', 'WIZZ_IDLE_TIMEOUT', DEFAULT_POLICY.idleTimeoutMs / 1000, 0, 86_400, 'seconds without any request, PING included (0: no limit)'),
  int('stallTimeoutS', 'stall-timeout', 'WIZZ_STALL_TIMEOUT', DEFAULT_LIMITS.maxStallMs / 1000, 1, 86_400, 'seconds a client may take none of its LOGIN backlog (slow_consumer beyond)'),
  int('rateBurst', 'rate-burst', 'WIZZ_RATE_BURST', DEFAULT_POLICY.requests.burst, 0, 1_000_000, 'SEND/SAY/JOIN per user: burst'),
  int('rateRefill', 'rate-refill', 'WIZZ_RATE_REFILL', DEFAULT_POLICY.requests.refillPerS, 0, 1_000_000, '… and sustained rate per second (0: no limit)'),
  int('registersPerAddress', 'registers-per-address', 'WIZZ_REGISTERS_PER_ADDRESS', DEFAULT_POLICY.registersPerAddress.burst, 0, 1_000_000, 'REGISTERs per client address per minute (0: no limit)'),
  int('failedLoginsPerName', 'failed-logins-per-name', 'WIZZ_FAILED_LOGINS_PER_NAME', DEFAULT_POLICY.failedLoginsPerName.burst, 0, 1_000_000, 'failed LOGINs per user name per minute, all addresses; beyond, new addresses are slowed (0: never)'),
  int('slowLoginsPerName', 'slow-logins-per-name', 'WIZZ_SLOW_LOGINS_PER_NAME', DEFAULT_POLICY.slowLoginsPerName, 0, 1_000_000, 'LOGINs per minute a guessed name admits from new addresses (0: not slowed)'),
  int('failedLoginsPerNameAddress', 'failed-logins-per-name-address', 'WIZZ_FAILED_LOGINS_PER_NAME_ADDRESS', DEFAULT_POLICY.failedLoginsPerNameAddress.burst, 0, 1_000_000, 'failed LOGINs per (user name, client address) per minute (0: no limit)'),
  int('failedLoginsPerAddress', 'failed-logins-per-address', 'WIZZ_FAILED_LOGINS_PER_ADDRESS', DEFAULT_POLICY.failedLoginsPerAddress.burst, 0, 1_000_000, 'failed LOGINs per client address per minute (0: no limit)'),
  int('failedResumesPerAddress', 'failed-resumes-per-address', 'WIZZ_FAILED_RESUMES_PER_ADDRESS', DEFAULT_POLICY.failedResumesPerAddress.burst, 0, 1_000_000, 'failed RESUMEs per client address per minute (0: no limit)'),
  int('sessionTtlS', 'session-ttl', 'WIZZ_SESSION_TTL', DEFAULT_POLICY.sessionTtlMs / 1000, 60, 10 * 366 * 86_400, 'seconds a session token from LOGIN stays valid for RESUME'),
  int('hashConcurrency', 'hash-concurrency', 'WIZZ_HASH_CONCURRENCY', 0, 0, 64, 'password hashes running at once per reactor (0: cores ÷ reactors, at least 1, below UV_THREADPOOL_SIZE)'),
  int('hashQueue', 'hash-queue', 'WIZZ_HASH_QUEUE', DEFAULT_HASH_GATE.maxQueued, 1, 100_000, 'password hashes waiting per reactor, served round-robin by address (rate_limited beyond)'),
  int('maxRoomsPerUser', 'max-rooms', 'WIZZ_MAX_ROOMS', DEFAULT_POLICY.maxRoomsPerUser, 1, 1_000_000, 'rooms one user may be in'),
  int('maxRoomMembers', 'max-room-members', 'WIZZ_MAX_ROOM_MEMBERS', DEFAULT_MAX_ROOM_MEMBERS, 1, 10_000_000, 'members of one room'),
  int('scryptLogN', 'scrypt-log-n', 'WIZZ_SCRYPT_LOG_N', DEFAULT_SCRYPT.logN, 10, 20, 'log2 of scrypt N for new password hashes (OWASP: 17)'),
  int('dbQueue', 'db-queue', 'WIZZ_DB_QUEUE', 100_000, 100, 10_000_000, 'database requests waiting at most (unavailable beyond)'),
  // Many hosts as one (docs/server/cluster.md): without these two, nothing changes.
  { key: 'redis', flag: 'redis', env: 'WIZZ_REDIS_URL', kind: 'string', fallback: () => '', help: 'redis://HOST:PORT, or redis+sentinel://HOST:PORT,…/NAME for Sentinel failover, routes between hosts (default: one host)', pattern: { re: /^(rediss?|redis\+sentinel):\/\/\S+$/, expected: 'a redis:// or redis+sentinel:// URL' } },
  { key: 'database', flag: 'database', env: 'WIZZ_DATABASE_URL', kind: 'string', fallback: () => '', help: 'postgres://USER@HOST:PORT/DB shared store (default: SQLite --db)', pattern: { re: /^postgres(ql)?:\/\/\S+$/, expected: 'a postgres:// URL' } },
  { key: 'nodeId', flag: 'node-id', env: 'WIZZ_NODE_ID', kind: 'string', fallback: () => '', help: 'this host\'s name in logs and presence (default: random)', pattern: { re: /^[A-Za-z0-9_.-]{1,64}$/, expected: '1-64 letters, digits, "_", "." or "-"' } },
  int('presenceLeaseS', 'presence-lease', 'WIZZ_PRESENCE_LEASE', 5, 1, 3_600, 'seconds before a silent host\'s users count as gone'),
];

export class ConfigError extends Error {}

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): Config {
  const raw: Partial<Record<keyof Config, string>> = {};
  for (const s of SETTINGS) {
    const value = env[s.env];
    if (value !== undefined && value !== '') raw[s.key] = value;
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument "${arg}"`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const s = SETTINGS.find((x) => x.flag === name);
    if (!s) throw new ConfigError(`unknown flag --${name} (known: ${SETTINGS.map((x) => `--${x.flag}`).join(', ')})`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ConfigError(`--${name} needs a value`);
    raw[s.key] = value;
  }
  const config: Record<string, string | number> = {};
  for (const s of SETTINGS) {
    config[s.key] = s.kind === 'string' ? text(s, raw[s.key]) : integer(s, raw[s.key]);
  }
  return config as unknown as Config;
}

/** The reactor-side limits a Config asks for. */
export function policyOf(config: Config): Policy {
  const perMinute = (n: number) => ({ burst: n, refillPerS: n / 60 });
  return {
    loginTimeoutMs: config.loginTimeoutS * 1000,
    idleTimeoutMs: config.idleTimeoutS * 1000,
    requests: { burst: config.rateBurst, refillPerS: config.rateRefill },
    registersPerAddress: perMinute(config.registersPerAddress),
    failedLoginsPerName: perMinute(config.failedLoginsPerName),
    slowLoginsPerName: config.slowLoginsPerName,
    failedLoginsPerNameAddress: perMinute(config.failedLoginsPerNameAddress),
    failedLoginsPerAddress: perMinute(config.failedLoginsPerAddress),
    failedResumesPerAddress: perMinute(config.failedResumesPerAddress),
    maxRoomsPerUser: config.maxRoomsPerUser,
    sessionTtlMs: config.sessionTtlS * 1000,
    hashGate: { ...DEFAULT_HASH_GATE, concurrency: config.hashConcurrency || hashConcurrencyFor(config.reactors), maxQueued: config.hashQueue },
  };
}

/** The reactor-side bounds a Config asks for (the outbound and inbound bounds are fixed). */
export function reactorLimitsOf(config: Config): Partial<ReactorLimits> {
  return { maxConnections: config.maxConnections, maxStallMs: config.stallTimeoutS * 1000 };
}

function text(s: Setting, value: string | undefined): string {
  if (value === undefined) return s.fallback() as string;
  if (s.pattern && !s.pattern.re.test(value)) throw new ConfigError(`${s.flag} must be ${s.pattern.expected}, got "${value}"`);
  return value;
}

function integer(s: Setting, value: string | undefined): number {
  if (value === undefined) return s.fallback() as number;
  const n = Number(value);
  if (!Number.isInteger(n) || n < s.min! || n > s.max!) {
    throw new ConfigError(`${s.flag} must be an integer from ${s.min} to ${s.max}, got "${value}"`);
  }
  return n;
}
