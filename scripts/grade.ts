// `npm test [-- NN] [--target labs|solutions|DIR] [--seed N]`: grades the learner's stages in one vitest run
// and prints the current stage's failures, a summary of the others, and the scoreboard.
// Exit code 1 while any stage fails.
import fs from 'node:fs';
import { integerFlag, parseCommand } from '../server/util/cli.ts';
import { loadManifest, resolveStage, stageDirs } from './lib/stages.ts';
import { creditFor, gradeRun, targetDirOf } from './lib/grade-run.ts';
import { renderReport, stageResults } from './lib/report.ts';
import { loadProgress } from './lib/progress.ts';
import { c } from './lib/color.ts';

const USAGE = `usage: npm test [-- NN ...] [--target labs|solutions|/abs/overlay] [--seed N]
  grades labs/ (or another target) and prints the current stage's failures, then the scoreboard
  NN             one stage, e.g. 03 or 03-epoll (several may be given); none = every stage
  --target T     what to grade: labs (default, or $WIZZ_TARGET), solutions, or an overlay directory
  --seed N       replay the client stories of that seed (a failing scenario grader prints it)`;
const { values, positionals } = parseCommand(
  { target: { type: 'string', default: process.env.WIZZ_TARGET ?? 'labs' }, seed: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  USAGE,
);
// Replays the client stories of a failing scenario grader (labs/kit/scenario): the graders read WIZZ_SEED.
if (values.seed !== undefined) process.env.WIZZ_SEED = String(integerFlag('seed', values.seed, -(2 ** 31), 2 ** 31 - 1));
if (!fs.existsSync(targetDirOf(values.target!))) {
  console.error(`--target ${values.target}: no such directory (labs, solutions, or an overlay's path)\n\n${USAGE}`);
  process.exit(2);
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
