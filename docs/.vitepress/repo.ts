// Paths and manifest reading shared by the site config and its helpers. Everything here runs in
// Node when the config loads (never in the browser).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const vitepressDir = path.dirname(fileURLToPath(import.meta.url));
export const docsDir = path.resolve(vitepressDir, '..');
export const repoDir = path.resolve(docsDir, '..');

export interface Stage {
  id: string;
  title: string;
  read?: string;
  hints?: string[];
}

/** The stages of labs/stages.json, or none when the manifest is missing or unreadable. */
export function readStages(): Stage[] {
  try {
    const raw = JSON.parse(fs.readFileSync(path.join(repoDir, 'labs/stages.json'), 'utf8')) as { stages?: unknown };
    if (!Array.isArray(raw.stages)) return [];
    return raw.stages.filter(
      (s): s is Stage => typeof s === 'object' && s !== null && typeof (s as Stage).id === 'string' && typeof (s as Stage).title === 'string',
    );
  } catch {
    return [];
  }
}

/** True when docs/<rel> exists (rel like 'reference/protocol.md'). */
export function docExists(rel: string): boolean {
  return fs.existsSync(path.join(docsDir, rel));
}

/** The title of a markdown file: frontmatter `title:`, else its first `# ` heading, else the fallback. */
export function markdownTitle(file: string, fallback: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
  const fm = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
  const fmTitle = fm ? /^title:\s*(.+)$/m.exec(fm[1]!) : null;
  if (fmTitle) return fmTitle[1]!.trim().replace(/^(['"])(.*)\1$/, '$2');
  const h1 = /^#\s+(.+?)\s*#*\s*$/m.exec(text);
  return h1 ? h1[1]!.replace(/`/g, '') : fallback;
}
