// Counting system calls of the server's processes during a window: `strace -f -c -e trace=…`
// attached to every process of the tree (-f also attaches every thread: the database thread's
// fsyncs count). strace slows what it traces, so the bench uses it on a separate, shorter run and
// reports only ratios from it (writes per delivery, DMs per fsync), never throughput.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { track } from './systems.ts';

export function stracePath(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v strace'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : null;
}

/** Calls per syscall from the summary `strace -c` prints. */
export function parseStraceSummary(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const t = line.trim().split(/\s+/);
    // "% time  seconds  usecs/call  calls  [errors]  syscall"
    if (t.length < 5 || !/^\d+(\.\d+)?$/.test(t[0]!) || !/^\d+$/.test(t[3]!)) continue;
    const name = t[t.length - 1]!;
    if (name !== 'total') out[name] = Number(t[3]);
  }
  return out;
}

export class SyscallCounter {
  private readonly done: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly file: string,
  ) {
    this.done = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Attaches to `pids` (every thread of each) and waits until strace says it is attached. */
  static async attach(pids: number[], syscalls: string[], dir: string): Promise<SyscallCounter> {
    const file = path.join(dir, `strace-${Date.now()}.txt`);
    const child = track(
      spawn(stracePath()!, ['-f', '-c', '-e', `trace=${syscalls.join(',')}`, '-o', file, ...pids.flatMap((p) => ['-p', String(p)])], {
        stdio: ['ignore', 'ignore', 'pipe'],
      }),
    );
    const counter = new SyscallCounter(child, file);
    let err = '';
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 3_000);
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        if (pids.every((p) => err.includes(`Process ${p} attached`))) {
          clearTimeout(timer);
          setTimeout(resolve, 300); // the threads' attach lines follow the process's
        }
      });
      child.once('exit', () => resolve());
    });
    if (child.exitCode !== null) throw new Error(`strace could not attach: ${err.trim().split('\n').pop()}`);
    return counter;
  }

  /** Detaches and returns calls per syscall. */
  async stop(): Promise<Record<string, number>> {
    this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.done;
    clearTimeout(timer);
    try {
      return parseStraceSummary(fs.readFileSync(this.file, 'utf8'));
    } catch {
      return {};
    }
  }
}
