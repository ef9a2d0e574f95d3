// What `npm test` and `npm run watch` print after a run: the current stage's failures in full, the
// other failing stages as one line each, then the scoreboard and what to do next.
import fs from 'node:fs';
import path from 'node:path';
import { stageFromPath, type Stage } from './stages.ts';
import { abortedRecords, groupByStage, type RunResult, type StageResult } from './results.ts';
import { buildRows, currentStage, isFailing, renderScoreboard } from './scoreboard.ts';
import { explainFailure, classify, failureKey, friendlyHint } from './explain.ts';
import type { StageCredit } from './credit.ts';
import { orderFailures } from './order.ts';
import { c } from './color.ts';
import { rel, ROOT } from './paths.ts';

export interface ReportInput {
  stages: Stage[];
  /** Stage folders present in labs/. */
  present: Set<string>;
  /** Results per stage (for watch: merged with earlier runs). */
  results: Map<string, StageResult>;
  unhandled: RunResult['unhandled'];
  targetDir: string;
  hintsShown: Record<string, number>;
  /** At most this many failures of the detailed stage are printed in full. */
  maxFull?: number;
  /** Stages graded (null = every present stage); the rest show as "not graded this run". */
  graded?: Set<string> | null;
  /** Detail this stage's failures instead of the current one's (watch: the stage just edited). */
  focus?: string;
  /** What the scoreboard may credit per stage (credit.ts); none = raw counts. */
  credit?: Map<string, StageCredit>;
}

const sourceCache = new Map<string, string[]>();
function sourceLine(file: string, line: number): string | undefined {
  try {
    if (!sourceCache.has(file)) sourceCache.set(file, fs.readFileSync(file, 'utf8').split('\n'));
    return sourceCache.get(file)![line - 1];
  } catch {
    return undefined;
  }
}

/** Results of one run grouped by stage, with an aborted run's stuck files counted as failures. */
export function stageResults(run: RunResult): Map<string, StageResult> {
  return groupByStage([...run.tests, ...abortedRecords(run)]);
}

export function renderReport(inp: ReportInput): { lines: string[]; failing: boolean } {
  const rows = buildRows(inp.stages, inp.present, inp.results, inp.graded ?? null, inp.credit);
  const cur = currentStage(rows);
  const lines: string[] = [];
  const maxFull = inp.maxFull ?? 10;

  const focused = rows.find((r) => r.id === inp.focus);
  // watch, after a save that made the stage pass: the pass is the news, not the next stage's
  // placeholder failures (those stay one line below until the learner starts on it).
  const justPassed = focused?.status === 'done' ? focused : undefined;
  if (justPassed) lines.push('', c.green(c.bold(`✓ Stage ${justPassed.id} — ${justPassed.title}: passes, all ${justPassed.total} checks.`)), '');
  const detail = justPassed ? undefined : focused && isFailing(focused.status) ? focused : cur;
  if (detail) {
    const cur = detail;
    const res = inp.results.get(cur.id)!;
    // The same count as the scoreboard's row (checks that pass as shipped are not counted there).
    lines.push('', c.bold(`Stage ${cur.id} — ${cur.title}: ${cur.total - cur.passed} of ${cur.total} checks failing`), '');
    let prevKey = '';
    for (const t of orderFailures(res.failures).slice(0, maxFull)) {
      // The same error at the same line (typically the starter's TODO) is told once, then listed.
      const key = failureKey(t, inp.targetDir);
      if (key && key === prevKey) lines.push(`${c.red('✗')} ${c.bold(`[${cur.id}]`)} ${t.name} ${c.dim('— the same error as above')}`);
      else lines.push(...(prevKey ? [''] : []), ...explainFailure(t, { stage: cur.id, targetDir: inp.targetDir, sourceLine, relPath: rel }));
      prevKey = key;
    }
    lines.push('');
    if (res.failures.length > maxFull) lines.push(c.dim(`  … and ${res.failures.length - maxFull} more failing in ${cur.id}; fix these first.`), '');
  }
  const others = rows.filter((r) => isFailing(r.status) && r.id !== detail?.id);
  if (others.length) {
    lines.push(c.bold(justPassed ? 'Unfinished stages (a summary):' : 'Other unfinished stages (a summary):'));
    for (const r of others) {
      const first = orderFailures(inp.results.get(r.id)!.failures)[0];
      lines.push(`  ${c.red('✗')} [${r.id}] ${r.total - r.passed} failing${first ? c.dim(` — first: ${first.name}`) : ''}`);
    }
    lines.push('');
  }
  if (inp.unhandled.length) {
    lines.push(c.bold('Errors outside any test (they fail the run):'));
    for (const e of inp.unhandled.slice(0, 5)) {
      // Name the stage when the stack says where it came from.
      const from = [...(e.cause?.frames ?? []), ...e.frames].map((f) => stageFromPath(f.file)).find(Boolean);
      lines.push(`  ${c.red('!')} ${from ? c.bold(`[${from}] `) : ''}${e.message.split('\n')[0]}`);
      const h = friendlyHint(classify(e), cur?.id ?? '00');
      if (h) lines.push(`    ${c.yellow('→')} ${h}`);
    }
    lines.push('');
  }

  lines.push(...renderScoreboard(rows, cur?.id), '');
  if (cur) {
    const stage = inp.stages.find((s) => s.id === cur.id);
    const readme = `labs/${cur.id}/README.md`;
    // The docs page shows the same README beside its chapters: point at it as a site path, not a file.
    const page = stage && fs.existsSync(path.join(ROOT, 'docs/labs', `${stage.id}.md`))
      ? `the site's /labs/${stage.id} (\`npm run docs\`)`
      : undefined;
    const reads = [readme, page].filter((p): p is string => !!p);
    const shown = inp.hintsShown[cur.id] ?? 0;
    const total = stage?.hints.length ?? 0;
    lines.push(`${c.bold('Next:')} stage ${cur.id}. Read ${reads.length ? reads.join(' and ') : readme}.`);
    lines.push(
      shown < total
        ? `${c.bold('Stuck?')} \`npm run hint -- ${cur.id.slice(0, 2)}\` reveals hint ${shown + 1} of ${total}.`
        : `${c.bold('Stuck?')} all ${total} hints are out (\`npm run hint -- ${cur.id.slice(0, 2)}\` shows them again).`,
    );
    lines.push(c.dim(`Re-grade just this stage: \`npm test -- ${cur.id.slice(0, 2)}\`; on every save: \`npm run watch\`.`));
  } else if (rows.some((r) => r.status === 'done') && !inp.unhandled.length) {
    lines.push(c.green('Every graded stage passes.'));
    // Graded one stage (`npm test -- 00`): point at the stage after it, which this run did not grade.
    const lastDone = rows.map((r) => r.status).lastIndexOf('done');
    const next = rows.slice(lastDone + 1).find((r) => r.status === 'not-run');
    if (next) {
      const n = next.id.slice(0, 2);
      lines.push(`${c.bold('Next:')} stage ${next.id} — ${next.title}. Read labs/${next.id}/README.md, then \`npm test -- ${n}\`.`);
    }
  }
  const failing = rows.some((r) => isFailing(r.status)) || inp.unhandled.length > 0;
  return { lines, failing };
}
