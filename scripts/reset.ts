// `npm run reset -- NN [--yes] [--ref REF]` / `npm run reset -- --all`: restores a stage's starter
// files (not its graders or README) after a y/N confirmation, keeping a copy of the
// files it replaces under .wizz/backups/<time>/ (and saying where), so a slip costs nothing.
// Where the starter comes from: see scripts/lib/starter.ts.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline/promises';
import { parseCommand } from '../server/util/cli.ts';
import { loadManifest, resolveStage, stageDirs } from './lib/stages.ts';
import { gitOk } from './lib/git.ts';
import { ROOT, STATE_DIR, rel } from './lib/paths.ts';
import { shippedStarter, starterSource } from './lib/starter.ts';
import { c } from './lib/color.ts';

const USAGE = `usage: npm run reset -- NN [NN ...] [--yes] [--ref REF]   |   npm run reset -- --all [--yes]
  puts a stage's starter files back (not its graders or README), after asking; your version is
  copied to .wizz/backups/ first
  --yes, -y   do not ask (needed when not on a terminal)
  --all       every stage
  --ref REF   restore the starter as of this git ref (default: origin's, else HEAD's history)`;
const { values, positionals } = parseCommand({ yes: { type: 'boolean', short: 'y' }, all: { type: 'boolean' }, ref: { type: 'string' } }, USAGE);

function fail(msg: string): never {
  console.error(c.red(msg));
  process.exit(2);
}

if (!gitOk(['rev-parse', '--is-inside-work-tree'])) fail('reset needs the project to be a git clone (it restores the starter from git history).');
const ids = [...new Set([...loadManifest().map((s) => s.id), ...stageDirs()])];
let targets: string[];
if (values.all) targets = stageDirs();
else if (positionals.length) {
  targets = positionals.map((a) => {
    const r = resolveStage(a, ids);
    if ('error' in r) fail(r.error);
    return r.id;
  });
} else fail(`which stage?\n\n${USAGE}`);

const up = starterSource(values.ref);
if (!up) fail('no git commit to restore from (is this a fresh repository with no commits?).');
if (!up.upstream) console.log(c.yellow(`No origin remote: restoring from HEAD's history (the newest commit whose starter has a TODO). If that is your own work, use --ref <commit>.`));

interface Plan {
  stage: string;
  files: Array<{ path: string; original: string; changed: boolean }>;
}

const plans: Plan[] = [];
for (const stage of targets) {
  const shipped = shippedStarter(stage, up);
  if (!shipped) {
    console.log(c.yellow(`${stage}: not in git history at ${up.ref}; nothing to restore.`));
    continue;
  }
  const files = [...shipped.files].map(([file, original]) => {
    const p = `labs/${stage}/${file}`;
    const abs = path.join(ROOT, p);
    const changed = !fs.existsSync(abs) || fs.readFileSync(abs, 'utf8') !== original;
    return { path: p, original, changed };
  });
  plans.push({ stage, files });
}

const changed = plans.flatMap((p) => p.files.filter((f) => f.changed));
if (changed.length === 0) {
  console.log('Nothing to restore: the starter files are as shipped.');
  process.exit(0);
}
console.log(c.bold('These files will be restored to the starter (a copy of your version goes to .wizz/backups/):'));
for (const f of changed) console.log(`  ${f.path}`);

if (!values.yes) {
  if (!process.stdin.isTTY) fail('Not a terminal, so no confirmation is possible: add --yes.');
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  const answer = (await rl.question('Restore them? [y/N] ')).trim().toLowerCase();
  rl.close();
  if (answer !== 'y' && answer !== 'yes') {
    console.log('Nothing changed.');
    process.exit(0);
  }
}
// The work being replaced is copied first: a reset must never be the end of someone's afternoon.
const backup = path.join(STATE_DIR, 'backups', new Date().toISOString().replace(/[:.]/g, '-'));
let saved = 0;
for (const f of changed) {
  const abs = path.join(ROOT, f.path);
  if (!fs.existsSync(abs)) continue;
  const dest = path.join(backup, f.path);
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.copyFileSync(abs, dest);
  saved++;
}
for (const f of changed) {
  const abs = path.join(ROOT, f.path);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, f.original);
}
console.log(c.green(`Restored ${changed.length} file(s). Run \`npm test\` to see the stage from the start.`));
if (saved) console.log(`Your previous version is kept in ${c.cyan(rel(backup) + '/')} (copy a file back from there to undo).`);
