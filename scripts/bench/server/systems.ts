// Starting and stopping the systems `npm run bench:server` compares, each on 127.0.0.1 on a free
// port with its data in a temporary directory: the wizz reference server (server/main.ts, with N
// reactors), the straightforward baseline (server/baseline/), and redis-server.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { processTree } from './proc.ts';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export type Kind = 'reference' | 'baseline' | 'redis';

export interface SystemSpec {
  /** Row label in the table. */
  name: string;
  kind: Kind;
  reactors?: number;
  /** Extra node flags for the server processes (the profiler's --cpu-prof). */
  nodeArgs?: string[];
}

export interface RunningSystem {
  spec: SystemSpec;
  port: number;
  /** The process whose tree is the server (primary, or the only process). */
  pid: number;
  output(): string;
  /** Set when the server exited before stop() asked it to: how it ended. */
  exitedEarly(): string | null;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (the kernel picks one; we close it at once and hand it on). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export function redisPath(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : null;
}

const everything = new Set<ChildProcess>();
/** Every process this module started and has not seen exit: the bench kills them on Ctrl-C. */
export function killAll(): void {
  for (const child of everything) {
    if (child.pid === undefined) continue;
    for (const pid of processTree(child.pid).reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

export function track(child: ChildProcess): ChildProcess {
  everything.add(child);
  child.once('exit', () => everything.delete(child));
  return child;
}

export async function startSystem(spec: SystemSpec, dir: string): Promise<RunningSystem> {
  const port = await freePort();
  let child: ChildProcess;
  let ready: RegExp;
  if (spec.kind === 'redis') {
    const bin = redisPath();
    if (!bin) throw new Error('redis-server not found');
    // No persistence (pub/sub keeps nothing), room for many clients (redis caps this at its fd limit).
    child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--maxclients', '100000', '--protected-mode', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    ready = /Ready to accept connections/;
  } else {
    const node = [...(spec.nodeArgs ?? []), '--import', 'tsx'];
    const args =
      spec.kind === 'reference'
        ? [
            'server/main.ts',
            ...['--port', String(port), '--db', path.join(dir, 'wizz.db'), '--reactors', String(spec.reactors ?? 1)],
            // Bench settings: no per-user rate limit (the bench is one user flooding on purpose), cheap
            // password hashes (logging 200 users in is not what we measure), no login deadline (idle
            // connections never log in), and room for every connection the shape asks for. Every
            // simulated user comes from 127.0.0.1: REGISTER is not limited per address here.
            ...['--rate-refill', '0', '--scrypt-log-n', '10', '--login-timeout', '0', '--max-connections', '1000000', '--registers-per-address', '0'],
          ]
        : ['server/baseline/main.ts', '--port', String(port), '--db', path.join(dir, 'baseline.db')];
    child = spawn(process.execPath, [...node, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    ready = /listening on/;
  }
  track(child);
  let out = '';
  let stopping = false;
  let early: string | null = null;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      if (!stopping) early = `exited on its own (${signal ?? `code ${code}`})`;
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${spec.name} did not start within 60 s:\n${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${spec.name} exited (${code}) before it was ready:\n${out}`));
    });
  });
  return {
    spec,
    port,
    pid: child.pid!,
    output: () => out,
    exitedEarly: () => early,
    async stop() {
      stopping = true;
      // A graceful stop first (the reference server flushes its database and, under --cpu-prof,
      // writes its profiles on the way out); whatever is left after 15 s is killed.
      const tree = processTree(child.pid!);
      child.kill('SIGINT');
      const timer = setTimeout(() => {
        for (const pid of tree) {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            // gone
          }
        }
      }, 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'wizz-bench-'));
}
