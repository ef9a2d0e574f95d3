// Every script finds the project from its own location, not from the cwd, so a temp copy of the
// repo (used to test the tools themselves) grades its own labs/ and solutions/.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const LABS = path.join(ROOT, 'labs');
export const SOLUTIONS = path.join(ROOT, 'solutions');
export const MANIFEST = path.join(LABS, 'stages.json');
/** The stages' hints: outside labs/, in no file the READMEs send learners to (`npm run hint` reads it). */
export const HINTS = path.join(ROOT, 'scripts', 'hints.json');
export const STATE_DIR = path.join(ROOT, '.wizz');
export const REPORTS = path.join(ROOT, 'reports');

/** Path relative to the project root, with forward slashes, for messages. */
export function rel(p: string): string {
  return path.relative(ROOT, p).split(path.sep).join('/');
}
