// Shared by the server's tests: temporary databases, logged-in clients, and the real server process.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WizzClient } from '../client/wizz-client.ts';
import { Req } from '../protocol/codes.ts';

export const PASSWORD = 'correct horse';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'wizz-test-'));
}

let counter = 0;
/** A fresh valid user name per call (tests share nothing). */
export function uniqueUser(prefix = 'u'): string {
  return `${prefix}_${process.pid % 10_000}_${++counter}`;
}

export async function registered(port: number, user = uniqueUser()): Promise<string> {
  const c = await WizzClient.connect(port);
  await c.call(Req.REGISTER, { user, password: PASSWORD });
  await c.close();
  return user;
}

/** Registers (unless told not to) and logs in a new connection. */
export async function loggedIn(port: number, user = uniqueUser(), register = true): Promise<{ client: WizzClient; user: string; login: Record<string, unknown> }> {
  const client = await WizzClient.connect(port);
  if (register) await client.call(Req.REGISTER, { user, password: PASSWORD });
  const login = await client.call(Req.LOGIN, { user, password: PASSWORD });
  return { client, user, login };
}

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  output(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/**
 * Starts the server and waits for the line that says where it listens. By default it runs
 * `node --import tsx server/main.ts <args>` (child.pid is the primary's, for kill -9); with `npm`
 * it runs `npm start -- <args>` in its own process group and stop() signals the whole group, as
 * Ctrl-C in a terminal does. With `ipc` the primary gets an IPC channel to the test, as from a
 * supervisor (the soak): child.send({ctl: 'sample'}) asks it for numbers.
 */
export function startServerProcess(args: string[], options: { npm?: boolean; ipc?: boolean; timeoutMs?: number } = {}): Promise<ServerProcess> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const child = options.npm
    ? spawn('npm', ['start', '--silent', '--', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    : spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe', ...(options.ipc ? ['ipc' as const] : [])] });
  const signal = (sig: NodeJS.Signals) => (options.npm ? process.kill(-child.pid!, sig) : child.kill(sig));
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal('SIGKILL');
      reject(new Error(`server did not start within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on [\d.]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({
          child,
          port: Number(m[1]),
          output: () => out,
          stop: (sig = 'SIGTERM') => {
            signal(sig);
            return exited;
          },
          exited,
        });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}`));
    });
  });
}

/** Resolves when `predicate` holds, polling; rejects after `timeoutMs`. */
export async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}
