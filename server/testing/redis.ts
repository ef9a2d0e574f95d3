// A throwaway redis-server for tests and `npm run cluster`: a free port, no persistence (`--save ''
// --appendonly no`), its own temp dir. restart() kills it and starts it again on the same port with
// nothing in it, as after a crash of a Redis that keeps no data. Everything started here is killed
// by stop(), and at the latest when this process exits.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, isExecutable, onPath } from './local.ts';

export interface RedisOptions {
  /** The address redis-server listens on (default 127.0.0.1; the netns bridge address for namespaced hosts). */
  host?: string;
  /** Milliseconds to wait for "Ready to accept connections" (default 10 s). */
  readyTimeoutMs?: number;
}

export interface ThrowawayRedis {
  /** redis://HOST:PORT */
  url: string;
  host: string;
  port: number;
  /** The redis-server process id (for the tests that kill it themselves). */
  readonly pid: number | undefined;
  /** redis-server runs (false after kill() or stop()). */
  readonly running: boolean;
  /** Kills redis-server and removes its directory. Idempotent. */
  stop(): Promise<void>;
  /** Kills redis-server (SIGKILL: a crash) and starts an empty one on the same port. */
  restart(): Promise<void>;
  /** Kills redis-server (SIGKILL) and leaves it down until restart(). */
  kill(): Promise<void>;
}

const CANDIDATES = ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/sbin/redis-server'];

/** The redis-server binary: PATH first, then Debian's places. Throws naming the package. */
export function redisServerBinary(): string {
  const found = onPath('redis-server') ?? CANDIDATES.find(isExecutable);
  if (found) return found;
  throw new Error('redis-server not found on PATH nor in /usr/bin: install the Debian package "redis-server" (apt-get install -y redis-server)');
}

export async function startRedis(options: RedisOptions = {}): Promise<ThrowawayRedis> {
  const binary = redisServerBinary();
  const host = options.host ?? '127.0.0.1';
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wizz-redis-'));
  let child: ChildProcess | null = null;
  let stopped = false;

  const killNow = () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const onExit = () => {
    killNow();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', onExit);

  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGKILL');
    await exited;
  };

  let port = 0;
  // A port found free may be taken before redis-server binds it: try a few.
  for (let attempt = 1; ; attempt++) {
    port = await freePort(host);
    try {
      child = await launch(binary, host, port, dir, readyTimeoutMs);
      break;
    } catch (err) {
      if (attempt >= 5 || !/in use/i.test((err as Error).message)) {
        onExit();
        process.off('exit', onExit);
        throw err;
      }
    }
  }

  return {
    url: `redis://${host}:${port}`,
    host,
    port,
    get pid() {
      return child?.pid;
    },
    get running() {
      return child !== null && child.exitCode === null && child.signalCode === null;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await kill();
      fs.rmSync(dir, { recursive: true, force: true });
      process.off('exit', onExit);
    },
    async restart() {
      if (stopped) throw new Error('restart() after stop()');
      await kill();
      child = await launch(binary, host, port, dir, readyTimeoutMs);
    },
    kill,
  };
}

function launch(binary: string, host: string, port: number, dir: string, timeoutMs: number): Promise<ChildProcess> {
  const args = [
    '--port', String(port),
    '--bind', host,
    '--protected-mode', 'no', // hosts in other network namespaces connect from their own addresses
    '--save', '',
    '--appendonly', 'no',
    '--dir', dir,
    '--daemonize', 'no',
    '--logfile', '',
  ];
  return launchRedis(binary, args, /Ready to accept connections/, timeoutMs);
}

/** Starts redis-server with `args` (a data node, or a sentinel); resolves once its log matches `ready`. */
export function launchRedis(binary: string, args: string[], ready: RegExp, timeoutMs: number): Promise<ChildProcess> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server ${args.join(' ')} did not get ready within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (!ready.test(out)) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.stderr!.off('data', onData);
      child.stdout!.resume(); // keep draining its log so it never blocks on a full pipe
      child.stderr!.resume();
      child.off('exit', onEarlyExit);
      resolve(child);
    };
    const onEarlyExit = (code: number | null, signal: string | null) => {
      clearTimeout(timer);
      reject(new Error(`redis-server ${args.join(' ')} exited (${signal ?? code}) before it was ready:\n${out}`));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', onEarlyExit);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
