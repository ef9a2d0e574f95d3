// The per-stage scoreboard that ends every `npm test`, and the choice of the learner's current stage.
import type { Stage } from './stages.ts';
import type { StageResult } from './results.ts';
import type { StageCredit } from './credit.ts';
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
 * in this run. `credit`: whether the starter was edited (see credit.ts). "Not started" means the
 * starter files are exactly as shipped; once edited a stage is "in progress" until every check
 * passes, whatever the count says (a finished stage with one bug that makes it spin fails every
 * check, yet it is not "not started"). Without git the count decides: nothing credited = not started.
 */
export function statusOf(present: boolean, result: StageResult | undefined, graded = false, credit?: StageCredit): Status {
  if (!present) return 'missing';
  if (!result) return graded ? 'no-graders' : 'not-run';
  const total = result.passed + result.failed;
  if (total === 0) return 'no-graders';
  if (result.failed === 0) return 'done';
  if (credit && credit.edited !== null) return credit.edited ? 'in-progress' : 'not-started';
  return score(result, credit).passed === 0 ? 'not-started' : 'in-progress';
}

/**
 * The count shown: checks that pass now out of the checks there are to earn. A check that passes on
 * the untouched starter is not earned, so it counts in neither number — unless it fails now (the
 * learner broke it), then it is one more to earn.
 */
export function score(result: StageResult, credit?: StageCredit): { passed: number; total: number } {
  const free = credit?.starterPasses;
  if (!free || free.size === 0) return { passed: result.passed, total: result.passed + result.failed };
  const passed = result.passing.filter((id) => !free.has(id)).length;
  return { passed, total: passed + result.failed };
}

/** `graded`: the stages this run covered (null = all present), to tell "no graders" from "not run". */
export function buildRows(
  stages: Stage[],
  present: Set<string>,
  results: Map<string, StageResult>,
  graded: Set<string> | null = null,
  credit: Map<string, StageCredit> = new Map(),
): Row[] {
  const known = new Set(stages.map((s) => s.id));
  const extra = [...present].filter((id) => !known.has(id)).sort();
  const all = [...stages.map((s) => ({ id: s.id, title: s.title })), ...extra.map((id) => ({ id, title: '(not listed in labs/stages.json)' }))];
  return all.map(({ id, title }) => {
    const r = results.get(id);
    const cr = credit.get(id);
    const { passed, total } = r ? score(r, cr) : { passed: 0, total: 0 };
    return { id, title, status: statusOf(present.has(id), r, graded === null || graded.has(id), cr), passed, total };
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
