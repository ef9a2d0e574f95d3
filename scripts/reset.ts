// `npm run reset -- NN [--yes] [--ref REF]` / `npm run reset -- --all`: restores a stage's starter
// files (not its graders, README or wrong/ variants) after a y/N confirmation.
//
// Where the starter comes from: the commit that last changed labs/NN-name on the *upstream* ref
// (origin/HEAD, origin/main), read with `git show COMMIT:path`. Not the working tree's HEAD, because
// a learner who commits their work would get their own code back; the upstream ref only holds the
// project's commits. Without a remote (a fresh `git init`) we fall back to HEAD's history and take
// the newest commit whose starter still has a TODO marker — finished work has none — and say so.
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { loadManifest, resolveStage, stageDirs } from './lib/stages.ts';
import { git, gitOk, isStarterFile, upstreamRef } from './lib/git.ts';
import { ROOT } from './lib/paths.ts';
import { c } from './lib/color.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { yes: { type: 'boolean', short: 'y' }, all: { type: 'boolean' }, ref: { type: 'string' } },
});

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
} else fail('usage: npm run reset -- NN [--yes]   |   npm run reset -- --all [--yes]   (option: --ref <git ref>)');

const up = values.ref ? { ref: values.ref, upstream: true } : upstreamRef();
if (!up) fail('no git commit to restore from (is this a fresh repository with no commits?).');
if (!up.upstream) console.log(c.yellow(`No origin remote: restoring from HEAD's history (the newest commit whose starter has a TODO). If that is your own work, use --ref <commit>.`));

interface Plan {
  stage: string;
  commit: string;
  files: Array<{ path: string; changed: boolean }>;
}

function starterCommit(stage: string): string | null {
  const dir = `labs/${stage}`;
  if (up!.upstream) return gitOk(['log', '-1', '--format=%H', up!.ref, '--', dir]) || null;
  const commits = (gitOk(['log', '--format=%H', up!.ref, '--', dir]) ?? '').split('\n').filter(Boolean);
  for (const commit of commits) {
    const starters = listStarter(commit, stage);
    if (starters.some((p) => /\bTODO\b/.test(git(['show', `${commit}:${p}`])))) return commit;
  }
  return commits.at(-1) ?? null; // none has a TODO: the oldest is the closest to a starter
}

function listStarter(commit: string, stage: string): string[] {
  const dir = `labs/${stage}/`;
  return git(['ls-tree', '-r', '--name-only', commit, '--', dir])
    .split('\n')
    .filter((p) => p && isStarterFile(p.slice(dir.length)));
}

const plans: Plan[] = [];
for (const stage of targets) {
  const commit = starterCommit(stage);
  if (!commit) {
    console.log(c.yellow(`${stage}: not in git history at ${up.ref}; nothing to restore.`));
    continue;
  }
  const files = listStarter(commit, stage).map((p) => {
    const abs = path.join(ROOT, p);
    const original = git(['show', `${commit}:${p}`]);
    const changed = !fs.existsSync(abs) || fs.readFileSync(abs, 'utf8') !== original;
    return { path: p, changed };
  });
  plans.push({ stage, commit, files });
}

const changed = plans.flatMap((p) => p.files.filter((f) => f.changed).map((f) => ({ ...f, commit: p.commit })));
if (changed.length === 0) {
  console.log('Nothing to restore: the starter files are as shipped.');
  process.exit(0);
}
console.log(c.bold('These files will be restored to the starter (your changes in them are lost):'));
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
for (const f of changed) {
  const abs = path.join(ROOT, f.path);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, git(['show', `${f.commit}:${f.path}`]));
}
console.log(c.green(`Restored ${changed.length} file(s). Run \`npm test\` to see the stage from the start.`));
