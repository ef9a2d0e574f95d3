// Known-wrong variants and the overlay directories they are graded in.
//
// A variant is solutions/NN-name/wrong/<slug>.patch: a unified diff against that stage's solution
// files, paths relative to the stage folder (`--- a/server.ts` / `+++ b/server.ts`), whose first
// line is `# mistake: <one line>`. An optional second line, `# first message: <regex>`, says what
// the first failure a learner is shown must match (case-insensitive, `.` spanning lines): that it
// names the mistake, not only that the stage fails; `npm run honesty` grades such a variant in
// full. Wrong variants live beside the solutions, never in labs/, so a learner does not find
// near-complete code in the workspace.
//
// An overlay is a copy of solutions/ with one patch applied; the graders see it through a `#stage/`
// alias pointing at it. It is built under .wizz/overlays/ (gitignored) rather than the OS temp dir
// on purpose: the code in it must still resolve `#kernel/*`-style imports (package.json "imports")
// and bare packages (node_modules), both looked up from the importing file's location upwards —
// from /tmp they would not be found and every variant would "fail" for the wrong reason.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { STATE_DIR } from './paths.ts';

export const WRONG_DIR = 'wrong';
export const PATCH_EXT = '.patch';
const MISTAKE_RE = /^# mistake: (\S.*?)\s*$/;
const MESSAGE_RE = /^# first message: (\S.*?)\s*$/;

export interface Variant {
  stage: string;
  slug: string;
  /** Absolute path of solutions/NN-name/wrong/<slug>.patch. */
  file: string;
  mistake: string;
  /** What the first failure a learner sees must match (a regex source, flags `is`), if given. */
  message?: string;
  /** The stage files the patch changes, relative to the stage folder (e.g. "server.ts"). */
  files: string[];
}

export type BrokenVariant = Pick<Variant, 'stage' | 'slug' | 'file'> & { error: string };

/** The header and the files of a patch, or what is wrong with it. */
export function parsePatch(text: string): { mistake: string; message?: string; files: string[] } | { error: string } {
  const lines = text.split('\n');
  const mistake = lines[0]?.match(MISTAKE_RE)?.[1];
  if (!mistake) return { error: 'the first line must be `# mistake: <one line describing the mistake>`' };
  const message = lines[1]?.match(MESSAGE_RE)?.[1];
  if (message !== undefined) {
    try {
      new RegExp(message, 'is');
    } catch (e) {
      return { error: `# first message: not a regular expression (${(e as Error).message})` };
    }
  }
  const files = new Set<string>();
  // File headers are the ---/+++ lines outside hunks: inside one, "--- x" is a removed "-- x".
  let oldLeft = 0;
  let newLeft = 0;
  for (const l of lines) {
    if (oldLeft > 0 || newLeft > 0) {
      if (l.startsWith('\\')) continue; // "\ No newline at end of file"
      if (l.startsWith('-')) oldLeft--;
      else if (l.startsWith('+')) newLeft--;
      else {
        oldLeft--;
        newLeft--;
      }
      continue;
    }
    const hunk = l.match(/^@@ -\d+(?:,(\d+))? \+\d+(?:,(\d+))? @@/);
    if (hunk) {
      oldLeft = hunk[1] === undefined ? 1 : Number(hunk[1]);
      newLeft = hunk[2] === undefined ? 1 : Number(hunk[2]);
      continue;
    }
    const m = l.match(/^(?:---|\+\+\+) (?:[ab]\/)?([^\t]+?)(?:\t.*)?$/);
    if (!m || m[1] === '/dev/null') continue;
    const f = m[1]!;
    if (path.isAbsolute(f) || f.split('/').includes('..')) return { error: `"${f}" is not a file inside the stage folder (paths are relative to it: --- a/server.ts)` };
    if (!l.startsWith('--- a/') && !l.startsWith('+++ b/')) return { error: `"${l}": label the files a/<file> and b/<file> (diff -u --label, or git diff --no-index)` };
    files.add(f);
  }
  if (files.size === 0) return { error: 'no file changes found (expected a unified diff: --- a/<file> / +++ b/<file> / @@ …)' };
  return { mistake, ...(message !== undefined ? { message } : {}), files: [...files].sort() };
}

/** The wrong/*.patch variants of one stage folder of solutions/, parsed. */
export function listVariants(solutionStageDir: string): Array<Variant | BrokenVariant> {
  const dir = path.join(solutionStageDir, WRONG_DIR);
  if (!fs.existsSync(dir)) return [];
  const stage = path.basename(solutionStageDir);
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(PATCH_EXT))
    .sort()
    .map((f) => {
      const file = path.join(dir, f);
      const slug = f.slice(0, -PATCH_EXT.length);
      const p = parsePatch(fs.readFileSync(file, 'utf8'));
      return 'error' in p ? { stage, slug, file, error: p.error } : { stage, slug, file, ...p };
    });
}

/** A fresh directory for one honesty run's overlays. */
export function overlayRunDir(parent = path.join(STATE_DIR, 'overlays')): string {
  const dir = path.join(parent, `honesty-${process.pid}-${Date.now().toString(36)}`);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export class PatchError extends Error {}

/**
 * Copy of `solutionsDir` (without its wrong/ folders) under `parent`, with the variant's patch
 * applied in its stage folder by `git apply` — strict: no fuzz, every context line must match.
 * Returns the overlay's directory (the `#stage/` target). Throws PatchError when the patch does
 * not apply or changes nothing.
 */
export function buildOverlay(solutionsDir: string, v: Variant, parent: string): string {
  const dir = path.join(parent, `${v.stage}--${v.slug}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.cpSync(solutionsDir, dir, { recursive: true, filter: (src) => path.basename(src) !== WRONG_DIR });
  const stageDir = path.join(dir, v.stage);
  if (!fs.existsSync(stageDir)) throw new PatchError(`solutions/${v.stage}/ does not exist`);
  const before = v.files.map((f) => readOrNull(path.join(stageDir, f)));
  try {
    // Outside any repository as far as git can tell (the ceiling stops its search), so it applies
    // the paths relative to the stage folder, like `patch -p1`, instead of to the repository root.
    execFileSync('git', ['apply', '-p1', '--whitespace=nowarn', v.file], {
      cwd: stageDir,
      env: { ...process.env, GIT_CEILING_DIRECTORIES: path.dirname(dir) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (e) {
    const err = (e as { stderr?: Buffer }).stderr?.toString().trim() || (e as Error).message;
    throw new PatchError(`does not apply to solutions/${v.stage}/: ${err.split('\n').slice(0, 3).join('; ')}`);
  }
  if (v.files.every((f, i) => readOrNull(path.join(stageDir, f)) === before[i])) throw new PatchError('applies but changes nothing');
  return dir;
}

function readOrNull(file: string): string | null {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null;
}

export function removeOverlay(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
