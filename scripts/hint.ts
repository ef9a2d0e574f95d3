// `npm run hint -- NN`: reveals the stage's hints one at a time (from scripts/hints.json), remembering
// how many were shown in .wizz/progress.json. `--reset` forgets them.
import { parseCommand } from '../server/util/cli.ts';
import { loadManifest, resolveStage } from './lib/stages.ts';
import { forget, loadProgress, revealNext, saveProgress } from './lib/progress.ts';
import { c } from './lib/color.ts';

const USAGE = `usage: npm run hint -- NN [--reset]    e.g. npm run hint -- 03
  reveals stage NN's next hint (three in all) and repeats the ones already shown
  --reset   hides the stage's hints again`;
const { values, positionals } = parseCommand({ reset: { type: 'boolean' } }, USAGE);
const stages = loadManifest();
if (positionals.length !== 1) {
  console.error(`${positionals.length ? 'one stage at a time' : 'which stage?'}\n\n${USAGE}`);
  process.exit(2);
}
const r = resolveStage(positionals[0]!, stages.map((s) => s.id));
if ('error' in r) {
  console.error(c.red(r.error));
  process.exit(2);
}
const stage = stages.find((s) => s.id === r.id)!;
const progress = loadProgress();

if (values.reset) {
  saveProgress(forget(progress, stage.id));
  console.log(`Hints of ${stage.id} are hidden again.`);
  process.exit(0);
}

const total = stage.hints.length;
if (total === 0) {
  console.log(`${stage.id} has no hints. Read ${stage.read} and labs/${stage.id}/README.md.`);
  process.exit(0);
}
const next = revealNext(progress, stage.id, total);
saveProgress(next.progress);

console.log(c.bold(`${stage.id} — ${stage.title}`));
stage.hints.slice(0, next.shown).forEach((text, i) => {
  const body = text.trim() || c.dim('(this hint is not written yet — please tell a maintainer)');
  const fresh = i === next.shown - 1 && next.isNew;
  console.log(`\n${fresh ? c.yellow(`Hint ${i + 1} of ${total}:`) : c.dim(`Hint ${i + 1} of ${total}:`)} ${fresh ? body : c.dim(body)}`);
});
console.log(
  '\n' +
    (next.shown < total
      ? c.dim(`Run it again for hint ${next.shown + 1}. Read: ${stage.read}`)
      : c.dim(`That was the last hint. Read ${stage.read}; \`npm run hint -- ${stage.id.slice(0, 2)} --reset\` hides them again.`)),
);
