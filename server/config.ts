// Configuration: embedded defaults, overridden by WIZZ_* environment variables, overridden by the
// same-named flags (--host, --port, --db, --reactors; also --max-connections).
import os from 'node:os';

export interface Config {
  host: string;
  port: number;
  db: string;
  reactors: number;
  maxConnections: number;
}

const FLAGS: Record<string, keyof Config> = {
  host: 'host',
  port: 'port',
  db: 'db',
  reactors: 'reactors',
  'max-connections': 'maxConnections',
};

const ENV: Record<keyof Config, string> = {
  host: 'WIZZ_HOST',
  port: 'WIZZ_PORT',
  db: 'WIZZ_DB',
  reactors: 'WIZZ_REACTORS',
  maxConnections: 'WIZZ_MAX_CONNECTIONS',
};

export class ConfigError extends Error {}

export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): Config {
  const raw: Partial<Record<keyof Config, string>> = {};
  for (const key of Object.keys(ENV) as Array<keyof Config>) {
    const value = env[ENV[key]];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument "${arg}"`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const key = FLAGS[name];
    if (!key) throw new ConfigError(`unknown flag --${name} (known: ${Object.keys(FLAGS).map((f) => `--${f}`).join(', ')})`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new ConfigError(`--${name} needs a value`);
    raw[key] = value;
  }
  return {
    host: raw.host ?? '127.0.0.1',
    port: integer('port', raw.port, 7777, 0, 65_535),
    db: raw.db ?? './data/wizz.db',
    reactors: integer('reactors', raw.reactors, os.availableParallelism(), 1, 256),
    maxConnections: integer('max-connections', raw.maxConnections, 10_000, 1, 1_000_000),
  };
}

function integer(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
  }
  return n;
}
