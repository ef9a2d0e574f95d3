// A throwaway PostgreSQL for tests and `npm run cluster`: initdb into a temp dir, the server on
// 127.0.0.1 and a free port (plus a unix socket inside the dir), a database `wizz`, trust auth.
// PostgreSQL refuses to run as root, so when we are root initdb and postgres run as the `postgres`
// OS user (spawned with its uid/gid, on a dir chowned to it). stop() ends the server and removes
// the dir; a process exit handler does the same if a test file ends without calling it.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort, isExecutable } from './local.ts';

export interface ThrowawayPostgres {
  /** postgres://postgres@127.0.0.1:PORT/wizz */
  url: string;
  port: number;
  /** The temp dir: data in `data/`, the unix socket beside it. */
  dir: string;
  /** The postmaster's pid while the server runs, else null. */
  readonly pid: number | null;
  /** Stops the server as a crash would (immediate shutdown, no checkpoint); the data stays. */
  kill(): Promise<void>;
  /** Starts the server again after kill(), on the same port, with the same data. */
  start(): Promise<void>;
  /** kill() then start(): clients see their connections drop, committed data survives. */
  restart(): Promise<void>;
  /** Freezes the server and its backends (SIGSTOP): connections hang instead of failing. */
  pause(): void;
  resume(): void;
  /** Ends the server for good and removes the dir. Safe to call twice. */
  stop(): Promise<void>;
}

export interface PostgresOptions {
  /** The database created for the url (default `wizz`). */
  database?: string;
  /**
   * Where it listens besides 127.0.0.1, and the address in its url (default 127.0.0.1): the netns
   * bridge for namespaced hosts, which connect from that subnet (pg_hba `samenet`, trust).
   */
  host?: string;
}

const READY = 'database system is ready to accept connections';
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

export async function startPostgres(options: PostgresOptions = {}): Promise<ThrowawayPostgres> {
  const bin = findBinaries();
  const host = options.host ?? '127.0.0.1';
  const owner = process.getuid?.() === 0 ? postgresUser() : null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wizz-pg-'));
  const data = path.join(dir, 'data');
  let child: ChildProcess | null = null;
  let port = 0;
  let stopped = false;
  let output = '';

  const removeNow = () => {
    if (child?.pid) tryKill(child.pid, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', removeNow);

  const asOwner = owner ? { uid: owner.uid, gid: owner.gid } : {};
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' };

  const launch = async (): Promise<void> => {
    output = '';
    const proc = spawn(
      bin.postgres,
      [
        '-D', data, '-p', String(port), '-k', dir,
        '-c', `listen_addresses=${[...new Set(['127.0.0.1', host])].join(',')}`,
        '-c', 'fsync=on', // commits are real: an OK from the store means the data is on disk
        '-c', 'shared_buffers=16MB',
        '-c', 'max_connections=60',
        '-c', 'wal_level=minimal', '-c', 'max_wal_senders=0',
        '-c', 'lc_messages=C',
      ],
      { ...asOwner, cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = proc;
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-8_000);
    };
    proc.stdout!.on('data', collect);
    proc.stderr!.on('data', collect);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`postgres did not start within ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS);
      const onData = () => {
        if (output.includes(READY)) done();
      };
      const onExit = (code: number | null) => fail(new Error(`postgres exited (${code}) while starting:\n${output}`));
      const cleanup = () => {
        clearTimeout(timer);
        proc.stderr!.off('data', onData);
        proc.stdout!.off('data', onData);
        proc.off('exit', onExit);
      };
      const done = () => {
        cleanup();
        resolve();
      };
      const fail = (err: Error) => {
        cleanup();
        if (proc.exitCode === null) tryKill(proc.pid!, 'SIGKILL');
        reject(err);
      };
      proc.stderr!.on('data', onData);
      proc.stdout!.on('data', onData);
      proc.once('exit', onExit);
    });
  };

  const halt = async (signal: NodeJS.Signals): Promise<void> => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    signalTree(proc.pid!, 'SIGCONT'); // a paused server would not act on the signal
    tryKill(proc.pid!, signal);
    const timer = setTimeout(() => {
      for (const pid of childrenOf(proc.pid!)) tryKill(pid, 'SIGKILL');
      tryKill(proc.pid!, 'SIGKILL');
    }, STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  try {
    if (owner) fs.chownSync(dir, owner.uid, owner.gid);
    await run(bin.initdb, ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C', '--no-instructions'], {
      ...asOwner,
      cwd: dir,
      env,
    });
    // initdb trusts local and 127.0.0.1 only; hosts in namespaces connect from the bridge's subnet.
    if (host !== '127.0.0.1') fs.appendFileSync(path.join(data, 'pg_hba.conf'), 'host all all samenet trust\n');
    // The port is free when we look; another process may take it before postgres binds: retry.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await launch();
        break;
      } catch (err) {
        if (attempt >= 3 || !/could not bind|already in use/i.test((err as Error).message)) throw err;
      }
    }
    const database = options.database ?? 'wizz';
    const admin = new pg.Client({ host: '127.0.0.1', port, user: 'postgres', database: 'postgres' });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
    } finally {
      await admin.end();
    }
    const url = `postgres://postgres@${host}:${port}/${encodeURIComponent(database)}`;
    const kill = () => halt('SIGQUIT');
    const start = async () => {
      if (stopped) throw new Error('this throwaway PostgreSQL was stopped for good');
      if (!child) await launch();
    };
    return {
      url,
      port,
      dir,
      get pid() {
        return child?.pid ?? null;
      },
      kill,
      start,
      restart: async () => {
        await kill();
        await start();
      },
      pause: () => {
        if (child?.pid) signalTree(child.pid, 'SIGSTOP');
      },
      resume: () => {
        if (child?.pid) signalTree(child.pid, 'SIGCONT');
      },
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await halt('SIGQUIT');
        fs.rmSync(dir, { recursive: true, force: true });
        process.off('exit', removeNow);
      },
    };
  } catch (err) {
    await halt('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    process.off('exit', removeNow);
    throw err;
  }
}

interface Binaries {
  initdb: string;
  postgres: string;
}

/** initdb and postgres from one installation: PATH first, then Debian's /usr/lib/postgresql/N/bin. */
function findBinaries(): Binaries {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const d of dirs) {
    const initdb = path.join(d, 'initdb');
    if (!isExecutable(initdb)) continue;
    const real = path.dirname(fs.realpathSync(initdb));
    for (const candidate of [real, d]) {
      if (isExecutable(path.join(candidate, 'postgres'))) return { initdb, postgres: path.join(candidate, 'postgres') };
    }
  }
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  for (const v of versions) {
    const d = path.join(root, v, 'bin');
    if (isExecutable(path.join(d, 'initdb')) && isExecutable(path.join(d, 'postgres'))) {
      return { initdb: path.join(d, 'initdb'), postgres: path.join(d, 'postgres') };
    }
  }
  throw new Error(
    'PostgreSQL server binaries (initdb, postgres) were found neither on PATH nor in /usr/lib/postgresql/*/bin: ' +
      'install the Debian package `postgresql` (apt-get install -y postgresql)',
  );
}

/** The `postgres` OS user (Debian's package creates it); PostgreSQL will not run as root. */
function postgresUser(): { uid: number; gid: number } {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root, but there is no `postgres` OS user to run PostgreSQL as (Debian package `postgresql` creates it)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function run(file: string, args: string[], options: Parameters<typeof execFile>[2]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...options, timeout: START_TIMEOUT_MS }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(file)} failed: ${err.message}\n${stderr}`));
      else resolve();
    });
  });
}

function tryKill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/** Postgres backends are children of the postmaster (each in its own session, so no group kill). */
function childrenOf(pid: number): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) found.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** The postmaster first when stopping (so it forks nothing new), last when continuing. */
function signalTree(pid: number, signal: 'SIGSTOP' | 'SIGCONT'): void {
  if (signal === 'SIGSTOP') tryKill(pid, signal);
  for (const c of childrenOf(pid)) tryKill(c, signal);
  if (signal === 'SIGCONT') tryKill(pid, signal);
}
