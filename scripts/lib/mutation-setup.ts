// A vitest setup file for mutation runs (scripts/mutation.ts puts it after Stryker's own).
// Stryker switches a mutant on through `globalThis.__stryker__.activeMutant` in the vitest worker;
// a worker_threads Worker started by the code under test (stages 06 and 07) has its own globalThis,
// so it would always run the original code and every mutant that only acts there would survive.
// Stryker's instrumented code also reads the mutant from the environment variable below when its
// namespace has none, and a new Worker copies the creating thread's process.env: mirroring the
// active mutant into that variable before each test switches the mutant on inside workers too.
import { beforeAll, beforeEach } from 'vitest';

const ENV = '__STRYKER_ACTIVE_MUTANT__';

function mirrorActiveMutant(): void {
  const ns = (globalThis as { __stryker__?: { activeMutant?: string | number } }).__stryker__;
  const id = ns?.activeMutant;
  if (id === undefined || id === null) delete process.env[ENV];
  else process.env[ENV] = String(id);
}

// Stryker sets the mutant when its setup file loads ("static" mutants) or in its own beforeAll,
// which runs before this one; a grader may start its workers in a beforeAll, hence all three.
mirrorActiveMutant();
beforeAll(mirrorActiveMutant);
beforeEach(mirrorActiveMutant);

// Coverage has the same blind spot: a mutant reached only inside a worker is never "covered", and
// Stryker would mark it NoCoverage without trying it — even with coverageAnalysis "off", because the
// vitest runner reports what it saw anyway. For those stages (the generated config sets this
// variable) the runner is shown no coverage at all, so Stryker runs every grader on every mutant.
if (process.env.WIZZ_MUTATION_COVERAGE === 'off') {
  const g = globalThis as { __stryker__?: object };
  const ns = g.__stryker__ ?? (g.__stryker__ = {});
  Object.defineProperty(ns, 'mutantCoverage', { get: () => undefined, set: () => {}, configurable: true });
}
