// Reading Stryker's JSON report for one stage, matching each surviving mutant with its committed
// explanation, and the committed summary docs/data/mutation.json that the docs page renders.
import fs from 'node:fs';

/** The part of Stryker's mutation-testing-report-schema (JSON reporter) that we read. */
export interface StrykerReport {
  files: Record<string, { source: string; mutants: StrykerMutant[] }>;
}
export interface StrykerMutant {
  id: string;
  mutatorName: string;
  /** Evaluated while the module loads (Stryker then runs every test). */
  static?: boolean;
  testsCompleted?: number;
  replacement?: string;
  status: string; // Killed Survived NoCoverage Timeout CompileError RuntimeError Ignored Pending
  location: { start: { line: number; column: number }; end: { line: number; column: number } };
}

export interface Survivor {
  file: string;
  line: number;
  column: number;
  mutator: string;
  original: string;
  replacement: string;
  status: 'Survived' | 'NoCoverage';
  /** The mutant's source line and the one before it, to match an explanation's `context` when the run is reused. */
  lineText?: string;
  /** From scripts/mutation-explanations.json; null when nobody has explained this survivor yet. */
  explanation: string | null;
}

export interface Counts {
  killed: number;
  survived: number;
  noCoverage: number;
  timeout: number;
  /** Mutants that did not compile or crashed the run: not counted in the score (as Stryker does). */
  errors: number;
  total: number;
}

export interface Explanation {
  file: string;
  mutator: string;
  /** The original code the mutant replaces, whitespace-normalised (as printed in the survivors list). */
  original: string;
  /** Optional: only this replacement (a line can have several mutants of one mutator). */
  replacement?: string;
  /** Optional: text the mutant's line (or the line before it) must contain, when the same code occurs twice in a file. */
  context?: string;
  explanation: string;
}

export interface StageSummary {
  stage: string;
  score: number; // percent, one decimal: (killed + timeout) / (killed + timeout + survived + noCoverage)
  counts: Counts;
  files: string[];
  coverageAnalysis: string;
  /** True when Stryker reused the previous run's results for unchanged mutants and tests. */
  incremental: boolean;
  date: string;
  machine: { nproc: number; memoryGiB: number; node: string; platform: string };
  command: string;
  durationSeconds: number;
  /** Survivors Stryker could not have measured, re-graded with the mutant applied by hand. */
  handGraded: Array<{ file: string; line: number; mutator: string; replacement: string; result: 'passed' | 'failed' | 'timeout' }>;
  survivors: Survivor[];
}

export interface MutationData {
  $comment: string;
  target: number;
  stages: StageSummary[];
  /** Stages whose last recorded attempt could not be measured, and why. */
  unmeasured?: Array<{ stage: string; date: string; reason: string }>;
}

export const TARGET = 85;

/** One line of code, whitespace collapsed, so explanations survive reformatting. */
export function normalizeCode(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}

/** The source text between two 1-based line/column positions (end exclusive). */
export function sliceSource(source: string, loc: StrykerMutant['location']): string {
  const lines = source.split('\n');
  const offset = (p: { line: number; column: number }) => {
    let o = 0;
    for (let i = 0; i < p.line - 1; i++) o += lines[i]!.length + 1;
    return o + p.column - 1;
  };
  return source.slice(offset(loc.start), offset(loc.end));
}

export function countMutants(report: StrykerReport): Counts {
  const c: Counts = { killed: 0, survived: 0, noCoverage: 0, timeout: 0, errors: 0, total: 0 };
  for (const f of Object.values(report.files)) {
    for (const m of f.mutants) {
      if (m.status === 'Ignored' || m.status === 'Pending') continue;
      c.total++;
      if (m.status === 'Killed') c.killed++;
      else if (m.status === 'Survived') c.survived++;
      else if (m.status === 'NoCoverage') c.noCoverage++;
      else if (m.status === 'Timeout') c.timeout++;
      else c.errors++;
    }
  }
  return c;
}

export function score(c: Counts): number {
  const valid = c.killed + c.timeout + c.survived + c.noCoverage;
  return valid === 0 ? 0 : Math.round(((c.killed + c.timeout) / valid) * 1000) / 10;
}

function explains(e: Explanation, s: Omit<Survivor, 'explanation'>, lineText?: string): boolean {
  return (
    e.file === s.file &&
    (e.context === undefined || lineText === undefined || lineText.includes(e.context)) &&
    e.mutator === s.mutator &&
    normalizeCode(e.original) === normalizeCode(s.original) &&
    (e.replacement === undefined || normalizeCode(e.replacement) === normalizeCode(s.replacement))
  );
}

/** `lineText` (the mutant's source line) is checked against an explanation's `context` when known. */
export function findExplanation(list: Explanation[], s: Omit<Survivor, 'explanation'>, lineText?: string): string | null {
  return list.find((e) => explains(e, s, lineText))?.explanation ?? null;
}

/** Survivors and no-coverage mutants, in file and line order, each with its explanation or null. */
export function survivorsOf(report: StrykerReport, explanations: Explanation[]): Survivor[] {
  const out: Survivor[] = [];
  for (const [file, f] of Object.entries(report.files)) {
    for (const m of f.mutants) {
      if (m.status !== 'Survived' && m.status !== 'NoCoverage') continue;
      const s = {
        file: file.split('\\').join('/'),
        line: m.location.start.line,
        column: m.location.start.column,
        mutator: m.mutatorName,
        original: normalizeCode(sliceSource(f.source, m.location)),
        replacement: normalizeCode(m.replacement ?? ''),
        status: m.status,
      } as const;
      // The mutant's line with the one before it: an explanation's `context` may need either.
      const lines = f.source.split('\n');
      const lineText = lines.slice(Math.max(0, m.location.start.line - 2), m.location.start.line).join('\n');
      out.push({ ...s, lineText, explanation: findExplanation(explanations, s, lineText) });
    }
  }
  return out.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column);
}

const clip = (s: string, n = 100) => (s.length > n ? s.slice(0, n - 1) + '…' : s);

/** The survivors list as printed and written to reports/mutation/<id>/survivors.txt. */
export function formatSurvivors(stage: string, counts: Counts, pct: number, survivors: Survivor[]): string {
  const head = `${stage}: mutation score ${pct.toFixed(1)} % (target ≥ ${TARGET} %) — killed ${counts.killed}, timeout ${counts.timeout}, survived ${counts.survived}, no coverage ${counts.noCoverage}, errors ${counts.errors}, total ${counts.total}`;
  if (survivors.length === 0) return head + '\nno surviving mutants\n';
  const lines = survivors.map((s) => {
    const tag = s.status === 'NoCoverage' ? ' [no coverage]' : '';
    const why = s.explanation ? `\n      explained: ${clip(s.explanation, 160)}` : '\n      UNEXPLAINED';
    return `  ${s.file}:${s.line}:${s.column}  ${s.mutator}${tag}\n      original:    ${clip(s.original)}\n      replacement: ${clip(s.replacement)}${why}`;
  });
  return `${head}\n${survivors.length} survivor(s):\n${lines.join('\n')}\n`;
}

export function readExplanations(file: string): Explanation[] {
  if (!fs.existsSync(file)) return [];
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { explanations?: Explanation[] };
  return Array.isArray(raw.explanations) ? raw.explanations : [];
}

export function readMutationData(file: string): MutationData {
  const empty: MutationData = {
    $comment: 'Written by `npm run mutation -- all --write` (scripts/mutation.ts), never by hand; rendered by docs/reference/graders.md.',
    target: TARGET,
    stages: [],
  };
  if (!fs.existsSync(file)) return empty;
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<MutationData>;
  return { ...empty, stages: Array.isArray(raw.stages) ? raw.stages : [], unmeasured: Array.isArray(raw.unmeasured) ? raw.unmeasured : [] };
}

/** Replaces (or adds) one stage's summary, keeping the others, in stage order. */
export function mergeStage(data: MutationData, summary: StageSummary): MutationData {
  const stages = data.stages.filter((s) => s.stage !== summary.stage).concat(summary);
  stages.sort((a, b) => a.stage.localeCompare(b.stage));
  const unmeasured = (data.unmeasured ?? []).filter((u) => u.stage !== summary.stage);
  return { ...data, target: TARGET, stages, unmeasured };
}

/** Records that a stage could not be measured (its previous numbers, if any, are dropped). */
export function markUnmeasured(data: MutationData, stage: string, reason: string, date = new Date().toISOString()): MutationData {
  const unmeasured = (data.unmeasured ?? []).filter((u) => u.stage !== stage).concat({ stage, date, reason });
  unmeasured.sort((a, b) => a.stage.localeCompare(b.stage));
  return { ...data, target: TARGET, stages: data.stages.filter((s) => s.stage !== stage), unmeasured };
}

/** The failing grader and its error from Stryker's "failed tests in the initial test run" output. */
export function failureReason(text: string): string {
  const plain = text.replace(/\x1b\[[0-9;]*m/g, '');
  const m = plain.match(/One or more tests failed in the initial test run:\s*\n\s*(.+)\n\s*(.+)/);
  if (m) return `the initial, unmutated run failed — "${m[1]!.trim()}": ${m[2]!.trim()}`;
  const err = plain.match(/ERROR \w+\s+(.+)/);
  return err ? err[1]!.trim() : 'see its output';
}
