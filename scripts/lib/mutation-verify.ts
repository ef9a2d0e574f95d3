// A second opinion on survivors Stryker cannot have measured. Its vitest runner (9.6.1, vitest 4.1)
// scores a mutant by the tests it collected; a mutant that makes a module throw while it loads
// (a "static" mutant such as `new TextDecoder('')` at the top of a file) makes the test file fail
// to import, collects no test, and is reported Survived. So every survivor that is static or ran
// no test is applied by hand to a copy of solutions/ and graded as a learner's code would be: if a
// grader fails, the mutant is killed after all.
// Likewise a "no coverage" mutant in a stage that starts worker threads: per-test coverage cannot
// see inside a worker, so the mutant may well be reached there; graded by hand it is killed or
// (if every grader passes) a plain survivor.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, SOLUTIONS, STATE_DIR } from './paths.ts';
import type { StrykerMutant } from './mutation-report.ts';

/** Survivors whose "Survived" (or "NoCoverage", where workers hide coverage) Stryker cannot have measured. */
export function needsSecondOpinion(m: StrykerMutant, stageStartsWorkers = false): boolean {
  if (m.status === 'NoCoverage') return stageStartsWorkers;
  return m.status === 'Survived' && (m.static === true || m.testsCompleted === 0);
}

/** The file's source with the mutant applied (locations are 1-based, the end exclusive). */
export function applyMutant(source: string, m: Pick<StrykerMutant, 'location' | 'replacement'>): string {
  const lines = source.split('\n');
  const offset = (p: { line: number; column: number }) => {
    let o = 0;
    for (let i = 0; i < p.line - 1; i++) o += lines[i]!.length + 1;
    return o + p.column - 1;
  };
  return source.slice(0, offset(m.location.start)) + (m.replacement ?? '') + source.slice(offset(m.location.end));
}

function runGraders(stage: string, target: string, timeoutMs: number): Promise<'passed' | 'failed' | 'timeout'> {
  return new Promise((resolve) => {
    const vitest = path.join(ROOT, 'node_modules/vitest/vitest.mjs');
    const child = spawn(process.execPath, [vitest, 'run', '--project', 'graders', `labs/${stage}`], {
      cwd: ROOT,
      stdio: 'ignore',
      env: { ...process.env, WIZZ_TARGET: target },
      detached: true, // its own process group, so a timeout ends vitest's workers too
    });
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
      resolve('timeout');
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve(code === 0 ? 'passed' : 'failed');
    });
  });
}

/**
 * Grades the stage with one mutant applied by hand (in .wizz/overlays/, inside the repo so the
 * copy still resolves `#kernel/*` and node_modules). `file` is relative to the project root.
 */
export async function gradeMutantByHand(
  stage: string,
  file: string,
  m: Pick<StrykerMutant, 'id' | 'location' | 'replacement'>,
  timeoutMs = 180_000,
): Promise<'passed' | 'failed' | 'timeout'> {
  const dir = path.join(STATE_DIR, 'overlays', `mutant-${stage}-${m.id}-${process.pid}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  try {
    fs.cpSync(path.join(SOLUTIONS, stage), path.join(dir, stage), { recursive: true });
    const target = path.join(dir, path.relative(SOLUTIONS, path.join(ROOT, file)));
    fs.writeFileSync(target, applyMutant(fs.readFileSync(target, 'utf8'), m));
    return await runGraders(stage, dir, timeoutMs);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
