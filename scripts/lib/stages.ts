// The stage manifest (labs/stages.json) and the mapping between paths, arguments and stages.
import fs from 'node:fs';
import path from 'node:path';
import { HINTS, LABS, MANIFEST } from './paths.ts';

export interface Stage {
  id: string; // "03-epoll"
  title: string;
  read: string; // the file with the stage's text (its README), relative to the project root
  /** What the stage's own files may import (labs/kit/imports.ts): "#kit/*", "node:*", "./*", a module. */
  imports: string[];
  /** From scripts/hints.json, not the manifest: reading labs/stages.json must not reveal them. */
  hints: string[];
}

export const STAGE_DIR_RE = /^\d\d-[a-z0-9-]+$/;

export function loadManifest(file = MANIFEST, hintsFile = HINTS): Stage[] {
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { stages?: Array<Omit<Stage, 'hints'>> };
  if (!Array.isArray(raw.stages)) throw new Error(`${file}: expected { "stages": [...] }`);
  const hints = loadHints(hintsFile);
  return raw.stages.map((s) => ({ ...s, hints: hints[s.id] ?? [] }));
}

/** Stage id → its hints, in the order `npm run hint` reveals them; {} when the file is absent. */
export function loadHints(file = HINTS): Record<string, string[]> {
  if (!fs.existsSync(file)) return {};
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  const out: Record<string, string[]> = {};
  for (const [id, list] of Object.entries(raw)) {
    if (id.startsWith('$')) continue; // "$comment"
    if (!Array.isArray(list) || !list.every((h) => typeof h === 'string')) throw new Error(`${file}: "${id}" must be a list of hint texts`);
    out[id] = list;
  }
  return out;
}

/** Stage folders present under a directory (labs/ or solutions/), sorted. */
export function stageDirs(dir = LABS): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && STAGE_DIR_RE.test(d.name))
    .map((d) => d.name)
    .sort();
}

/**
 * Which stage a file belongs to: the `NN-name` folder right under labs/ (or solutions/, or an
 * overlay). `relPath` is relative to the project root or absolute; null for kernel/, kit/, etc.
 */
export function stageFromPath(p: string): string | null {
  const parts = p.split(/[\\/]+/);
  for (let i = 0; i < parts.length - 1; i++) {
    if ((parts[i] === 'labs' || parts[i] === 'solutions') && STAGE_DIR_RE.test(parts[i + 1]!)) return parts[i + 1]!;
  }
  return null;
}

/**
 * A learner's stage argument ("3", "03", "03-epoll", "epoll") → the stage id, or an error message
 * that lists what exists.
 */
export function resolveStage(arg: string, ids: string[]): { id: string } | { error: string } {
  const a = arg.trim().toLowerCase();
  const byNumber = /^\d{1,2}$/.test(a) ? ids.find((id) => id.startsWith(a.padStart(2, '0') + '-')) : undefined;
  const found = byNumber ?? ids.find((id) => id === a) ?? ids.find((id) => id.slice(3) === a);
  if (found) return { id: found };
  return { error: `no stage "${arg}". Stages: ${ids.map((id) => id.slice(0, 2)).join(', ')} (e.g. \`03\` or \`03-epoll\`).` };
}

export function stagePath(id: string, base = LABS): string {
  return path.join(base, id);
}
