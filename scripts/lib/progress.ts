// The learner's local state: how many hints of each stage were revealed. Lives in .wizz/ (gitignored)
// so it survives restarts and never ends up in a commit.
import fs from 'node:fs';
import path from 'node:path';
import { STATE_DIR } from './paths.ts';

export interface Progress {
  hintsShown: Record<string, number>;
}

export const PROGRESS_FILE = path.join(STATE_DIR, 'progress.json');

export function parseProgress(text: string | null): Progress {
  if (!text) return { hintsShown: {} };
  try {
    const raw = JSON.parse(text) as Partial<Progress>;
    const hintsShown: Record<string, number> = {};
    for (const [k, v] of Object.entries(raw.hintsShown ?? {})) if (Number.isInteger(v) && v > 0) hintsShown[k] = v;
    return { hintsShown };
  } catch {
    return { hintsShown: {} }; // a hand-edited, broken file must not stop the learner
  }
}

export function loadProgress(file = PROGRESS_FILE): Progress {
  return parseProgress(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null);
}

export function saveProgress(p: Progress, file = PROGRESS_FILE): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(p, null, 2) + '\n');
}

/** Reveal one more hint: returns the new state and how many are shown now (capped at total). */
export function revealNext(p: Progress, stage: string, total: number): { progress: Progress; shown: number; isNew: boolean } {
  const before = Math.min(p.hintsShown[stage] ?? 0, total);
  const shown = Math.min(before + 1, total);
  return { progress: { hintsShown: { ...p.hintsShown, [stage]: shown } }, shown, isNew: shown > before };
}

export function forget(p: Progress, stage: string): Progress {
  const { [stage]: _drop, ...rest } = p.hintsShown;
  return { hintsShown: rest };
}
