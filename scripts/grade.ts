// `npm test [-- NN] [--target labs|solutions|DIR]`: grades the learner's stages in one vitest run
// and prints the current stage's failures, a summary of the others, and the scoreboard.
// Exit code 1 while any stage fails.
import { parseArgs } from 'node:util';
import { loadManifest, resolveStage, stageDirs } from './lib/stages.ts';
import { creditFor, gradeRun, targetDirOf } from './lib/grade-run.ts';
import { renderReport, stageResults } from './lib/report.ts';
import { loadProgress } from './lib/progress.ts';
import { c } from './lib/color.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { target: { type: 'string', default: process.env.WIZZ_TARGET ?? 'labs' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
});
// Replays the client stories of a failing scenario grader (labs/kit/scenario): the graders read WIZZ_SEED.
if (values.seed !== undefined) process.env.WIZZ_SEED = values.seed;
if (values.help) {
  console.log('usage: npm test [-- NN] [--target labs|solutions|/abs/overlay] [--seed N]\n  grades labs/ (or another target); NN = one stage, e.g. 03; --seed N replays the client stories of that seed');
  process.exit(0);
}

const stages = loadManifest();
const present = new Set(stageDirs());
let only: string[] | null = null;
if (positionals.length) {
  only = [];
  for (const arg of positionals) {
    const r = resolveStage(arg, [...new Set([...stages.map((s) => s.id), ...present])]);
    if ('error' in r) {
      console.error(c.red(r.error));
      process.exit(2);
    }
    if (!present.has(r.id)) {
      console.error(c.red(`stage ${r.id} has no folder in labs/ yet.`));
      process.exit(2);
    }
    only.push(r.id);
  }
}
if (present.size === 0) console.log(c.yellow('No stages in labs/ yet — nothing to grade.'));

const run = await gradeRun(values.target!, only);
const results = stageResults(run);
const { lines, failing } = renderReport({
  stages,
  present,
  results,
  credit: await creditFor(results, values.target!),
  unhandled: run.unhandled,
  targetDir: targetDirOf(values.target!),
  hintsShown: loadProgress().hintsShown,
  graded: only ? new Set(only) : null,
});
console.log(lines.join('\n'));
process.exit(failing ? 1 : 0);
