// The vitest config of one honesty run: every target it grades is a project of ONE vitest process —
// the starter of each stage, the solutions (unless check already graded them), and each known-wrong
// variant's overlay — each with its own `#stage/` alias. One process, not one per variant: vitest
// starts once, and its workers stay busy across all targets. The plan (which projects) is a JSON
// file named by WIZZ_HONESTY_PLAN, written by scripts/honesty.ts.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { GRADERS } from '../../vitest.config.ts';

export interface PlannedProject {
  /** Unique project name, e.g. "variant 03-epoll/et-reads-once". */
  name: string;
  /** Absolute directory `#stage/` points at (labs/, solutions/ or an overlay). */
  dir: string;
  /** WIZZ_TARGET as the graders see it: "labs", "solutions" or the overlay's path. */
  target: string;
  stages: string[];
  /** Set for targets that must fail: the file whose existence makes the project's remaining tests skip. */
  bailMarker?: string;
}

export interface HonestyPlan {
  projects: PlannedProject[];
  maxWorkers: number;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const planFile = process.env.WIZZ_HONESTY_PLAN;
const plan: HonestyPlan = planFile ? JSON.parse(fs.readFileSync(planFile, 'utf8')) : { projects: [], maxWorkers: 1 };

const mustFail = new Set(plan.projects.filter((p) => p.bailMarker).map((p) => p.name));

/**
 * Targets that must pass everything (the solutions) first, longest file first, so no long file is
 * left for the end; then each must-fail target's files: the one that failed on the last run first
 * (vitest's results cache, per project and file), then smallest first — the first failure skips
 * the rest, and small graders (the imports check) are over in milliseconds.
 */
class HonestySequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const size = new Map(files.map((f) => [f.moduleId, fs.statSync(f.moduleId).size]));
    const failedBefore = (f: TestSpecification) => (this.ctx.cache.getFileTestResults(`${f.project.name}:${path.relative(root, f.moduleId)}`)?.failed ? 0 : 1);
    const rank = (f: TestSpecification) => (mustFail.has(f.project.name) ? 1 : 0);
    return [...files].sort(
      (a, b) =>
        rank(a) - rank(b) ||
        (rank(a) === 0
          ? size.get(b.moduleId)! - size.get(a.moduleId)!
          : a.project.name.localeCompare(b.project.name) || failedBefore(a) - failedBefore(b) || size.get(a.moduleId)! - size.get(b.moduleId)!),
    );
  }
}

export default defineConfig({
  root,
  // Its own cache (durations, which file failed last): other vitest runs must not overwrite it.
  cacheDir: path.join(root, '.wizz', 'vitest-honesty'),
  test: {
    maxWorkers: plan.maxWorkers,
    sequence: { sequencer: HonestySequencer },
    projects: plan.projects.map((p) => ({
      root,
      resolve: { alias: [{ find: /^#stage\/(.*)$/, replacement: `${p.dir}/$1` }] },
      test: {
        name: p.name,
        include: p.stages.map((id) => `labs/${id}/**/*.test.ts`),
        exclude: GRADERS.exclude,
        testTimeout: GRADERS.testTimeout,
        hookTimeout: GRADERS.hookTimeout,
        env: { WIZZ_TARGET: p.target, ...(p.bailMarker ? { WIZZ_BAIL_MARKER: p.bailMarker } : {}) },
        setupFiles: p.bailMarker ? [path.join(root, 'scripts/lib/honesty-setup.ts')] : [],
      },
    })),
  },
});
