// A setup file of the honesty check's "must fail" projects (a starter, a known-wrong variant): one
// failing grader is the whole answer, so once any test of the project has failed, the rest skip.
// vitest's own `bail` would stop every project of the run, not just this one; the marker file is
// shared by the project's test files, whichever worker runs them. For the same reason fast-check
// stops at the first counterexample instead of shrinking it: nobody reads the story here.
import fs from 'node:fs';
import fc from 'fast-check';
import { beforeEach } from 'vitest';

const marker = process.env.WIZZ_BAIL_MARKER;

if (marker) {
  fc.configureGlobal({ ...fc.readConfigureGlobal(), endOnFailure: true });
  beforeEach((ctx) => {
    if (fs.existsSync(marker)) ctx.skip('an earlier grader already failed on this target');
    ctx.onTestFailed(() => fs.writeFileSync(marker, `${ctx.task.file.name} > ${ctx.task.name}\n`, { flag: 'a' }));
  });
}
