// `npm test [-- NN] [--target labs|solutions|DIR]`: grades the learner's stages in one vitest run
// and prints the current stage's failures, a summary of the others, and the scoreboard.
// Exit code 1 while any stage fails.
import { parseArgs } from 'node:util';
import { loadManifest, resolveStage, stageDirs } from './lib/stages.ts';
import { gradeRun, targetDirOf } from './lib/grade-run.ts';
import { renderReport, stageResults } from './lib/report.ts';
import { loadProgress } from './lib/progress.ts';
import { c } from './lib/color.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { target: { type: 'string', default: process.env.WIZZ_TARGET ?? 'labs' }, help: { type: 'boolean', short: 'h' } },
});
if (values.help) {
  console.log('usage: npm test [-- NN] [--target labs|solutions|/abs/overlay]\n  grades labs/ (or another target); NN = one stage, e.g. 03');
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
const { lines, failing } = renderReport({
  stages,
  present,
  results: stageResults(run),
  unhandled: run.unhandled,
  targetDir: targetDirOf(values.target!),
  hintsShown: loadProgress().hintsShown,
  graded: only ? new Set(only) : null,
});
console.log(lines.join('\n'));
process.exit(failing ? 1 : 0);
