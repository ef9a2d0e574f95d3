// The per-stage scoreboard that ends every `npm test`, and the choice of the learner's current stage.
import type { Stage } from './stages.ts';
import type { StageResult } from './results.ts';
import { c, pad } from './color.ts';

export type Status = 'done' | 'in-progress' | 'not-started' | 'no-graders' | 'missing' | 'not-run';

export interface Row {
  id: string;
  title: string;
  status: Status;
  passed: number;
  total: number;
}

/**
 * A stage's status. `present`: its labs/ folder exists. `result`: undefined when it was not graded
 * in this run. A stage whose tests all fail is "not started" — the learner hasn't got anything right yet.
 */
export function statusOf(present: boolean, result: StageResult | undefined, graded = false): Status {
  if (!present) return 'missing';
  if (!result) return graded ? 'no-graders' : 'not-run';
  const total = result.passed + result.failed;
  if (total === 0) return 'no-graders';
  if (result.failed === 0) return 'done';
  return result.passed === 0 ? 'not-started' : 'in-progress';
}

/** `graded`: the stages this run covered (null = all present), to tell "no graders" from "not run". */
export function buildRows(stages: Stage[], present: Set<string>, results: Map<string, StageResult>, graded: Set<string> | null = null): Row[] {
  const known = new Set(stages.map((s) => s.id));
  const extra = [...present].filter((id) => !known.has(id)).sort();
  const all = [...stages.map((s) => ({ id: s.id, title: s.title })), ...extra.map((id) => ({ id, title: '(not listed in labs/stages.json)' }))];
  return all.map(({ id, title }) => {
    const r = results.get(id);
    return { id, title, status: statusOf(present.has(id), r, graded === null || graded.has(id)), passed: r?.passed ?? 0, total: r ? r.passed + r.failed : 0 };
  });
}

export const isFailing = (s: Status) => s === 'in-progress' || s === 'not-started';

/** The first stage (in manifest order) that is graded and not finished. */
export function currentStage(rows: Row[]): Row | undefined {
  return rows.find((r) => isFailing(r.status));
}

const LABEL: Record<Status, string> = {
  done: '✓ done',
  'in-progress': '✗ in progress',
  'not-started': '✗ not started',
  'no-graders': '· no graders yet',
  missing: '· not in this workbook yet',
  'not-run': '· not graded this run',
};

function colour(s: Status, text: string): string {
  if (s === 'done') return c.green(text);
  if (isFailing(s)) return c.red(text);
  return c.dim(text);
}

export function renderScoreboard(rows: Row[], current: string | undefined): string[] {
  const titleW = Math.min(48, Math.max(...rows.map((r) => r.title.length), 5));
  const out = [c.bold(`  ${pad('stage', 13)}${pad('', titleW + 2)}${pad('tests', 8)}status`)];
  for (const r of rows) {
    const score = r.status === 'missing' || r.status === 'not-run' ? '—' : `${r.passed}/${r.total}`;
    const here = r.id === current ? c.yellow('  ← you are here') : '';
    const title = r.title.length > titleW ? r.title.slice(0, titleW - 1) + '…' : r.title;
    out.push(`  ${pad(r.id, 13)}${pad(c.dim(title), titleW + 2)}${pad(score, 8)}${colour(r.status, LABEL[r.status])}${here}`);
  }
  return out;
}
