// Grades many targets (starters, solutions, known-wrong overlays) in ONE vitest process, one vitest
// project per target (scripts/lib/honesty-vitest.config.ts). One process means one start-up and
// workers that stay busy across targets; the price is that a target that hangs would hold up the
// rest, so a run that stops making progress is killed, the hanging targets are charged with the
// timeout, and the targets it had not finished are graded again in a fresh process.
import fs from 'node:fs';
import path from 'node:path';
import type { PlannedProject } from './honesty-vitest.config.ts';
import { ROOT } from './paths.ts';
import type { ErrorInfo, TestRecord } from './results.ts';
import { runIsolated } from './run-isolated.ts';

export type { PlannedProject };

const CONFIG = path.join(ROOT, 'scripts/lib/honesty-vitest.config.ts');
const MAX_ROUNDS = 3;

export interface MultiRunOptions {
  /** Where the plan and bail markers go (an overlay run directory). */
  workDir: string;
  maxWorkers: number;
  /** Hard limit of one vitest process. */
  timeoutMs: number;
  /** Kill the process when no test has finished for this long. */
  stallMs: number;
  /** Grader files per stage, relative to the project root ("labs/03-epoll/chat.test.ts"). */
  graderFiles: (stage: string) => string[];
  onTest?: (t: TestRecord) => void;
}

export interface MultiRunResult {
  /** Records per project name; a target that hung or crashed the runner gets a synthetic failed record. */
  byProject: Map<string, TestRecord[]>;
  /** Errors outside any test, from all rounds. */
  unhandled: ErrorInfo[];
  rounds: number;
}

export async function gradeTargets(projects: PlannedProject[], opts: MultiRunOptions): Promise<MultiRunResult> {
  const byProject = new Map<string, TestRecord[]>(projects.map((p) => [p.name, []]));
  const unhandled: ErrorInfo[] = [];
  let pending = projects;
  let rounds = 0;
  let lastAbort = '';
  while (pending.length && rounds < MAX_ROUNDS) {
    rounds++;
    for (const p of pending) if (p.bailMarker) fs.rmSync(p.bailMarker, { force: true });
    const planFile = path.join(opts.workDir, `plan-${rounds}.json`);
    fs.writeFileSync(planFile, JSON.stringify({ projects: pending, maxWorkers: opts.maxWorkers }));
    const run = await runIsolated({
      target: 'labs', // each project sets its own WIZZ_TARGET
      config: CONFIG,
      project: [],
      env: { WIZZ_HONESTY_PLAN: planFile },
      timeoutMs: opts.timeoutMs,
      stallMs: opts.stallMs,
      onTest: opts.onTest,
    });
    for (const p of pending) byProject.set(p.name, []);
    for (const t of run.tests) if (t.project && byProject.has(t.project)) byProject.get(t.project)!.push(t);
    unhandled.push(...run.unhandled);
    if (!run.aborted) {
      pending = [];
      break;
    }
    const { reason, detail } = run.aborted;
    lastAbort = detail;
    const hung = new Set<string>();
    for (const m of run.aborted.runningModules ?? []) {
      hung.add(m.project);
      byProject.get(m.project)?.push({
        file: m.file,
        name: reason === 'timeout' ? '(the run stalled here)' : '(the test runner crashed)',
        state: 'failed',
        errors: [{ name: reason === 'timeout' ? 'RunTimeout' : 'RunnerCrash', message: detail, frames: [] }],
        durationMs: 0,
        project: m.project,
      });
    }
    const finished = (p: PlannedProject) => {
      const recs = byProject.get(p.name)!;
      if (hung.has(p.name) || (p.bailMarker && recs.some((t) => t.state === 'failed'))) return true;
      const seen = new Set(recs.map((t) => t.file));
      return p.stages.flatMap(opts.graderFiles).every((f) => seen.has(f));
    };
    pending = pending.filter((p) => !finished(p));
    // Nothing hung yet the runner died: every remaining target would just crash it again.
    if (hung.size === 0 && rounds >= 2) break;
  }
  // Still unfinished after the last round: say so rather than leave the target looking clean.
  for (const p of pending) {
    const recs = byProject.get(p.name)!;
    if (recs.some((t) => t.state === 'failed') && p.bailMarker) continue;
    recs.push({
      file: `labs/${p.stages[0]}/`,
      name: '(the runner stopped before this target was graded)',
      state: 'failed',
      errors: [{ name: 'RunnerCrash', message: `not graded after ${rounds} attempts; the last one ended: ${lastAbort}`, frames: [] }],
      durationMs: 0,
      project: p.name,
    });
  }
  return { byProject, unhandled, rounds };
}
