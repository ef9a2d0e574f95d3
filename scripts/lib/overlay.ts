// Known-wrong variants and the overlay directories they are graded in.
//
// An overlay is a copy of solutions/ with one file swapped for a wrong variant; the graders see it
// through WIZZ_TARGET=<overlay>. It is built under .wizz/overlays/ (gitignored) rather than the OS
// temp dir on purpose: the code in it must still resolve `#kernel/*`-style imports (package.json
// "imports") and bare packages (node_modules), both of which are looked up from the importing
// file's location upwards — from /tmp they would not be found and every variant would "fail" for
// the wrong reason.
import fs from 'node:fs';
import path from 'node:path';
import { STATE_DIR } from './paths.ts';

export interface Variant {
  stage: string;
  slug: string;
  file: string; // absolute path of labs/NN/wrong/<slug>.ts
  mistake: string;
  replaces: string; // path inside the stage folder, e.g. "server.ts"
}

export function parseVariantHeader(text: string): { mistake: string; replaces: string } | { error: string } {
  const head = text.split('\n').slice(0, 6);
  const get = (key: string) => head.map((l) => l.match(new RegExp(`^\\s*//\\s*${key}:\\s*(.+?)\\s*$`))?.[1]).find(Boolean);
  const mistake = get('mistake');
  const replaces = get('replaces');
  if (!mistake || !replaces) return { error: 'must start with `// mistake: <one line>` and `// replaces: <file>.ts`' };
  if (replaces.includes('..') || path.isAbsolute(replaces)) return { error: `replaces: "${replaces}" must be a file inside the stage folder` };
  return { mistake, replaces };
}

/** The wrong/*.ts variants of one stage folder (labs/NN-name), headers parsed. */
export function listVariants(stageDir: string): Array<Variant | { stage: string; slug: string; file: string; error: string }> {
  const dir = path.join(stageDir, 'wrong');
  if (!fs.existsSync(dir)) return [];
  const stage = path.basename(stageDir);
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .sort()
    .map((f) => {
      const file = path.join(dir, f);
      const slug = f.replace(/\.ts$/, '');
      const h = parseVariantHeader(fs.readFileSync(file, 'utf8'));
      return 'error' in h ? { stage, slug, file, error: h.error } : { stage, slug, file, ...h };
    });
}

let counter = 0;

/** Copy of `solutionsDir` with `<stage>/<replaces>` replaced by the variant; returns its path. */
export function buildOverlay(solutionsDir: string, v: Variant, parent = path.join(STATE_DIR, 'overlays')): string {
  const dir = path.join(parent, `${v.stage}--${v.slug}--${process.pid}-${counter++}`);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(parent, { recursive: true });
  fs.cpSync(solutionsDir, dir, { recursive: true });
  const dest = path.join(dir, v.stage, v.replaces);
  if (!fs.existsSync(dest)) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`solutions/${v.stage}/${v.replaces} does not exist, so wrong/${v.slug}.ts replaces nothing`);
  }
  fs.copyFileSync(v.file, dest);
  return dir;
}

export function removeOverlay(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
