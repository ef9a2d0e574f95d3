// What a vitest run leaves behind, reduced to plain data (it crosses a process boundary as JSON),
// and how it is grouped by stage.
import { stageFromPath } from './stages.ts';

export interface Frame {
  file: string;
  line: number;
  column: number;
}

export interface ErrorInfo {
  name: string;
  message: string;
  expected?: string;
  actual?: string;
  diff?: string;
  frames: Frame[];
  /** The error this one wraps (fast-check puts the grader's real failure here). */
  cause?: ErrorInfo;
}

export type TestState = 'passed' | 'failed' | 'skipped';

export interface TestRecord {
  /** Test file, relative to the project root ("labs/03-epoll/epoll.test.ts"). */
  file: string;
  /** "describe > test" as written in the grader. */
  name: string;
  state: TestState;
  errors: ErrorInfo[];
  durationMs: number;
  /** The vitest project it ran in, when a run has several (honesty runs one per known-wrong variant). */
  project?: string;
}

export interface RunResult {
  tests: TestRecord[];
  /** Errors outside any test (an unhandled rejection, a worker that died). */
  unhandled: ErrorInfo[];
  /** Set when the runner itself did not finish: it crashed or was killed on a timeout. */
  aborted?: { reason: 'timeout' | 'crash'; detail: string; runningFiles: string[]; runningModules?: RunningModule[] };
}

/** A test file in flight in one project (several projects may run the same file). */
export interface RunningModule {
  project: string;
  file: string;
}

export interface StageResult {
  id: string;
  passed: number;
  failed: number;
  skipped: number;
  failures: TestRecord[];
  /** testId() of every passing test (the scoreboard credits only those that fail on the starter). */
  passing: string[];
}

export function emptyStage(id: string): StageResult {
  return { id, passed: 0, failed: 0, skipped: 0, failures: [], passing: [] };
}

/** A test's identity across runs and targets: its grader file and its full name. */
export function testId(t: Pick<TestRecord, 'file' | 'name'>): string {
  return `${t.file} > ${t.name}`;
}

/** Tests grouped by the stage folder their file lives in; tests outside a stage are ignored. */
export function groupByStage(tests: TestRecord[]): Map<string, StageResult> {
  const out = new Map<string, StageResult>();
  for (const t of tests) {
    const id = stageFromPath(t.file);
    if (!id) continue;
    let s = out.get(id);
    if (!s) out.set(id, (s = emptyStage(id)));
    if (t.state === 'passed') {
      s.passed++;
      s.passing.push(testId(t));
    } else if (t.state === 'skipped') s.skipped++;
    else {
      s.failed++;
      s.failures.push(t);
    }
  }
  return out;
}

export function totals(tests: TestRecord[]): { passed: number; failed: number } {
  let passed = 0;
  let failed = 0;
  for (const t of tests) {
    if (t.state === 'passed') passed++;
    else if (t.state === 'failed') failed++;
  }
  return { passed, failed };
}

/** A run that was cut short: the files still running get a synthetic failing record each. */
export function abortedRecords(run: RunResult): TestRecord[] {
  if (!run.aborted) return [];
  const { reason, detail, runningFiles } = run.aborted;
  const files = runningFiles.length ? runningFiles : ['(runner)'];
  return files.map((file) => ({
    file,
    name: reason === 'timeout' ? '(the run timed out here)' : '(the test runner crashed)',
    state: 'failed' as const,
    errors: [{ name: reason === 'timeout' ? 'RunTimeout' : 'RunnerCrash', message: detail, frames: [] }],
    durationMs: 0,
  }));
}
