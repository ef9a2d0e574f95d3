// Runs vitest through its Node API with a collecting reporter and no console output of its own,
// returning plain records. WIZZ_TARGET must be set in process.env before calling: vitest.config.ts
// reads it when the config loads.
import path from 'node:path';
import { createVitest } from 'vitest/node';
import type { Reporter, TestModule, TestCase } from 'vitest/node';
import type { ErrorInfo, Frame, RunResult, TestRecord } from './results.ts';
import { ROOT, rel } from './paths.ts';

export interface RunOptions {
  /** One project of the config, or several (honesty's generated config has one per variant). */
  project: string | string[];
  /** The config file; vitest.config.ts at the project root unless given. */
  config?: string;
  /** Worker processes; vitest's default (cores − 1) unless given. */
  maxWorkers?: number;
  /** File filters, as on vitest's command line (e.g. "labs/03-epoll/"). */
  filters?: string[];
  passWithNoTests?: boolean;
  /** Called as each test finishes (used to stream progress to a parent process). */
  onTest?: (t: TestRecord) => void;
  onModuleStart?: (file: string, project: string) => void;
  onModuleEnd?: (file: string, project: string) => void;
}

interface RawError {
  name?: string;
  message?: string;
  expected?: unknown;
  actual?: unknown;
  diff?: unknown;
  stacks?: Array<{ file: string; line: number; column: number }>;
  stack?: string;
  cause?: unknown;
}

/** vitest parses stacks of top-level errors only; a wrapped cause keeps its raw stack text. */
export function parseStack(stack: string | undefined): Frame[] {
  const frames: Frame[] = [];
  for (const m of (stack ?? '').matchAll(/^\s*at (?:.*? \()?(?:file:\/\/)?(\/[^():]+):(\d+):(\d+)\)?\s*$/gm)) {
    frames.push({ file: decodeURIComponent(m[1]!), line: Number(m[2]), column: Number(m[3]) });
  }
  return frames;
}

export function toErrorInfo(e: RawError, depth = 0): ErrorInfo {
  const frames: Frame[] = e.stacks ? e.stacks.map((s) => ({ file: s.file, line: s.line, column: s.column })) : parseStack(e.stack);
  return {
    name: e.name ?? 'Error',
    message: e.message ?? String(e),
    expected: typeof e.expected === 'string' ? e.expected : undefined,
    actual: typeof e.actual === 'string' ? e.actual : undefined,
    diff: typeof e.diff === 'string' ? e.diff : undefined,
    frames,
    cause: e.cause && typeof e.cause === 'object' && depth < 3 ? toErrorInfo(e.cause as RawError, depth + 1) : undefined,
  };
}

function testName(tc: TestCase): string {
  const names: string[] = [tc.name];
  let p = tc.parent;
  while (p.type === 'suite') {
    names.unshift(p.name);
    p = p.parent;
  }
  return names.join(' > ');
}

function record(tc: TestCase): TestRecord {
  const r = tc.result();
  const state = r.state === 'passed' ? 'passed' : r.state === 'failed' ? 'failed' : 'skipped';
  const errors = r.state === 'failed' ? (r.errors ?? []).map((e) => toErrorInfo(e as RawError)) : [];
  return { file: rel(tc.module.moduleId), name: testName(tc), state, errors, durationMs: tc.diagnostic()?.duration ?? 0, project: tc.project.name };
}

/** A test file that failed to load (import error, syntax error) becomes one failing record. */
function moduleFailure(m: TestModule): TestRecord | null {
  const errs = m.errors();
  if (errs.length === 0) return null;
  return {
    file: rel(m.moduleId),
    name: '(loading the test file)',
    state: 'failed',
    errors: errs.map((e) => toErrorInfo(e as RawError)),
    durationMs: 0,
    project: m.project.name,
  };
}

class Collector implements Reporter {
  tests: TestRecord[] = [];
  unhandled: ErrorInfo[] = [];
  constructor(private opts: RunOptions) {}
  onTestModuleStart(m: TestModule): void {
    this.opts.onModuleStart?.(rel(m.moduleId), m.project.name);
  }
  onTestCaseResult(tc: TestCase): void {
    const r = record(tc);
    this.tests.push(r);
    this.opts.onTest?.(r);
  }
  onTestModuleEnd(m: TestModule): void {
    const f = moduleFailure(m);
    if (f) {
      this.tests.push(f);
      this.opts.onTest?.(f);
    }
    this.opts.onModuleEnd?.(rel(m.moduleId), m.project.name);
  }
  onTestRunEnd(_m: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<unknown>): void {
    this.unhandled = unhandled.map((e) => toErrorInfo(e as RawError));
  }
}

export async function runVitest(opts: RunOptions): Promise<RunResult> {
  const collector = new Collector(opts);
  const vitest = await createVitest(
    'test',
    {
      root: ROOT,
      config: opts.config ?? path.join(ROOT, 'vitest.config.ts'),
      run: true,
      watch: false,
      project: Array.isArray(opts.project) ? opts.project : [opts.project],
      ...(opts.maxWorkers ? { maxWorkers: opts.maxWorkers } : {}),
      reporters: [collector],
      passWithNoTests: opts.passWithNoTests ?? false,
    },
  );
  try {
    await vitest.start(opts.filters ?? []);
  } catch (e) {
    // start() throws when no file matched; the CLI turns that into exit 0 under --passWithNoTests.
    const noFiles = (e as { code?: string }).code === 'VITEST_FILES_NOT_FOUND';
    if (!(noFiles && opts.passWithNoTests)) collector.unhandled.push(toErrorInfo(e as RawError));
  } finally {
    await vitest.close();
  }
  return { tests: collector.tests, unhandled: collector.unhandled };
}
