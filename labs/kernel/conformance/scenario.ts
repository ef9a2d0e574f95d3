// The shape of a conformance scenario (scenarios.json) and the two ways to check one:
// against real Linux (linux_runner.py) or, for kqueue, against results written from FreeBSD's kqueue(2).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type StepResult = string | number | StepResult[] | { [k: string]: StepResult };

export interface Step {
  op: string;
  as?: string;
  to?: string;
  from?: string;
  fd?: string;
  fds?: string[];
  n?: number;
  max?: number;
  how?: string;
  backlog?: number;
  blocking?: boolean;
  events?: string[];
  read?: string[];
  write?: string[];
  a?: string;
  b?: string;
  ep?: string;
  op2?: string;
  kq?: string;
  nevents?: number;
  changes?: Array<{ fd: string; filter: string; flags: string[] }>;
  /** 'woken': the epoll_wait_async calls to report on. */
  waits?: string[];
}

export interface Scenario {
  name: string;
  about: string;
  /** false: no Linux peer (kqueue); `expect` holds the results FreeBSD's kqueue(2) describes. */
  linux?: boolean;
  steps: Step[];
  expect?: StepResult[];
}

const here = path.dirname(fileURLToPath(import.meta.url));

export function loadScenarios(): Scenario[] {
  return JSON.parse(fs.readFileSync(path.join(here, 'scenarios.json'), 'utf8')) as Scenario[];
}

export type LinuxResults = { ok: true; results: Record<string, StepResult[]> } | { ok: false; why: string };

/** Plays the Linux scenarios on the real kernel through python3; says why not when it cannot. */
export function runOnLinux(scenarios: Scenario[]): LinuxResults {
  if (process.platform !== 'linux') return { ok: false, why: `not Linux (${process.platform})` };
  const py = spawnSync('python3', [path.join(here, 'linux_runner.py')], {
    input: JSON.stringify(scenarios.filter((s) => s.linux !== false)),
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (py.error) return { ok: false, why: `python3 not runnable: ${py.error.message}` };
  if (py.status !== 0) return { ok: false, why: `linux_runner.py failed: ${py.stderr.slice(-2000)}` };
  return { ok: true, results: JSON.parse(py.stdout) as Record<string, StepResult[]> };
}

/** Index of the first step whose results differ, or -1. */
export function firstDifference(a: StepResult[] | undefined, b: StepResult[] | undefined): number {
  if (!a || !b) return 0;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (JSON.stringify(a[i]) !== JSON.stringify(b[i])) return i;
  return -1;
}
