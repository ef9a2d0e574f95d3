// One vitest invocation in its own process group, with its own WIZZ_TARGET and a hard time limit.
// Isolation matters: a learner's infinite synchronous loop cannot be interrupted by vitest's
// per-test timeout, and honesty runs several targets at once (the target is process-wide env).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorInfo, RunningModule, RunResult, TestRecord } from './results.ts';
import type { RunOptions } from './vitest-run.ts';
import { ROOT } from './paths.ts';

const CHILD = path.join(path.dirname(fileURLToPath(import.meta.url)), 'vitest-child.ts');
const live = new Set<number>();

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}

// Ctrl-C on a script must not leave vitest workers behind.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    for (const pid of live) killGroup(pid);
    process.exit(130);
  });
}

export interface IsolatedOptions extends Omit<RunOptions, 'onTest' | 'onModuleStart' | 'onModuleEnd'> {
  /** "labs", "solutions" or an absolute overlay directory. */
  target: string;
  /** Hard limit for the whole invocation, in ms. */
  timeoutMs: number;
  /** Also stop it when no test has finished for this long (a hang stalls a run long before its limit). */
  stallMs?: number;
  /** Extra environment for the run (WIZZ_TARGET is set from `target`). */
  env?: Record<string, string>;
  onTest?: (t: TestRecord) => void;
}

type Msg =
  | { t: 'test'; r: TestRecord }
  | { t: 'start'; file: string; project: string }
  | { t: 'end'; file: string; project: string }
  | { t: 'done'; unhandled: ErrorInfo[] };

export function runIsolated(opts: IsolatedOptions): Promise<RunResult> {
  const { target, timeoutMs, stallMs, env, onTest, ...runOpts } = opts;
  return new Promise((resolve) => {
    const tests: TestRecord[] = [];
    const running = new Map<string, RunningModule>(); // key: project + file
    let unhandled: ErrorInfo[] | null = null;
    let stderr = '';
    let timedOut = false;
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(runOpts)], {
      cwd: ROOT,
      env: { ...process.env, ...env, WIZZ_TARGET: target, FORCE_COLOR: '0' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      detached: true, // own process group, so the vitest workers die with it
    });
    const pid = child.pid!;
    live.add(pid);
    child.stderr!.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    let stalled = false;
    const stop = (why: 'limit' | 'stall') => {
      timedOut = true;
      stalled = why === 'stall';
      killGroup(pid);
    };
    let stallTimer: NodeJS.Timeout | undefined;
    const progress = () => {
      if (!stallMs) return;
      clearTimeout(stallTimer);
      stallTimer = setTimeout(() => stop('stall'), stallMs);
    };
    progress();
    child.on('message', (m: Msg) => {
      if (m.t === 'test') {
        tests.push(m.r);
        onTest?.(m.r);
        progress();
      } else if (m.t === 'start') running.set(`${m.project}\0${m.file}`, { project: m.project, file: m.file });
      else if (m.t === 'end') running.delete(`${m.project}\0${m.file}`);
      else if (m.t === 'done') unhandled = m.unhandled;
    });
    const timer = setTimeout(() => stop('limit'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(stallTimer);
      killGroup(pid); // stray vitest workers
      live.delete(pid);
      if (unhandled !== null && !timedOut) return resolve({ tests, unhandled });
      const detail = stalled
        ? `no test finished for ${Math.round(stallMs! / 1000)} s (an endless loop or a wait that never ends?)`
        : timedOut
          ? `the run did not finish within ${Math.round(timeoutMs / 1000)} s (an endless loop or a wait that never ends?)`
          : `the test runner exited (${signal ?? `code ${code}`}) before reporting: ${lastLines(stderr)}`;
      const modules = [...running.values()];
      resolve({
        tests,
        unhandled: unhandled ?? [],
        aborted: { reason: timedOut ? 'timeout' : 'crash', detail, runningFiles: [...new Set(modules.map((m) => m.file))], runningModules: modules },
      });
    });
  });
}

function lastLines(s: string): string {
  return s.trim().split('\n').slice(-5).join('\n') || '(no output)';
}
