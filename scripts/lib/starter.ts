// The starter of a stage as the project shipped it, read from git, and whether the learner's copy
// still equals it. Shared by `npm run reset` (what to restore) and the scoreboard ("not started"
// means: not a byte changed).
//
// Where the starter comes from: the commit that last changed labs/NN-name on the *upstream* ref
// (origin/HEAD, origin/main), not the working tree's HEAD, because a learner who commits their work
// would otherwise get their own code back. Without a remote (a fresh `git init`, a maintainer's
// repository) HEAD's history stands in: the newest commit whose starter still has a TODO marker —
// finished work has none.
import fs from 'node:fs';
import path from 'node:path';
import { git, gitOk, isStarterFile, upstreamRef } from './git.ts';
import { ROOT } from './paths.ts';

export interface ShippedStarter {
  stage: string;
  commit: string;
  /** Starter files: path inside the stage folder ("server.ts") → content as shipped. */
  files: Map<string, string>;
}

export interface StarterSource {
  ref: string;
  /** False when the ref is the learner's own HEAD (no remote). */
  upstream: boolean;
  /** The repository (the project root; another one in tests). */
  root: string;
}

/** Where starters are read from, or null outside a git clone / in a repository with no commits. */
export function starterSource(ref?: string, root = ROOT): StarterSource | null {
  if (!gitOk(['rev-parse', '--is-inside-work-tree'], root)) return null;
  if (ref) return { ref, upstream: true, root };
  const up = upstreamRef(root);
  return up && { ...up, root };
}

/**
 * Starter paths (relative to the project root) of a stage at a commit. Known-wrong variants are
 * never starter files, including the labs/NN/wrong/ folders of older commits (they moved to
 * solutions/NN/wrong/): a reset must not bring them back, nor their absence count as an edit.
 */
export function listStarter(commit: string, stage: string, root = ROOT): string[] {
  const dir = `labs/${stage}/`;
  return git(['ls-tree', '-r', '--name-only', commit, '--', dir], root)
    .split('\n')
    .filter((p) => p && !p.slice(dir.length).startsWith('wrong/') && isStarterFile(p.slice(dir.length)));
}

export function starterCommit(stage: string, src: StarterSource): string | null {
  const dir = `labs/${stage}`;
  if (src.upstream) return gitOk(['log', '-1', '--format=%H', src.ref, '--', dir], src.root) || null;
  const commits = (gitOk(['log', '--format=%H', src.ref, '--', dir], src.root) ?? '').split('\n').filter(Boolean);
  for (const commit of commits) {
    if (listStarter(commit, stage, src.root).some((p) => /\bTODO\b/.test(git(['show', `${commit}:${p}`], src.root)))) return commit;
  }
  return commits.at(-1) ?? null; // none has a TODO: the oldest is the closest to a starter
}

/** The stage's starter as shipped, or null when git has no trace of the stage. */
export function shippedStarter(stage: string, src: StarterSource | null): ShippedStarter | null {
  if (!src) return null;
  try {
    const commit = starterCommit(stage, src);
    if (!commit) return null;
    const dir = `labs/${stage}/`;
    const files = new Map<string, string>();
    for (const p of listStarter(commit, stage, src.root)) files.set(p.slice(dir.length), git(['show', `${commit}:${p}`], src.root));
    return files.size ? { stage, commit, files } : null;
  } catch {
    return null; // a broken ref or a shallow clone: the scoreboard falls back to counting
  }
}

/** Starter files of `stageDir` (a folder of labs/, solutions/ or an overlay) that differ from the shipped ones. */
export function changedFiles(shipped: ShippedStarter, stageDir: string): string[] {
  const changed: string[] = [];
  for (const [file, original] of shipped.files) {
    const abs = path.join(stageDir, file);
    if (!fs.existsSync(abs) || fs.readFileSync(abs, 'utf8') !== original) changed.push(file);
  }
  return changed;
}

/** Writes the shipped starter into `dir/<stage>/` (an overlay to grade the starter itself). */
export function writeStarter(shipped: ShippedStarter, dir: string): void {
  for (const [file, content] of shipped.files) {
    const abs = path.join(dir, shipped.stage, file);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, content);
  }
}
