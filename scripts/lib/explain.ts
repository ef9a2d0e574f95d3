// Turns a failed test into what a learner can act on: the grader's message, expected vs got, the
// one line of their own file where it threw, and a friendly hint for the usual crash causes.
// Never a stack dump.
import path from 'node:path';
import type { ErrorInfo, TestRecord } from './results.ts';
import { c } from './color.ts';

export type Cause = 'todo' | 'timeout' | 'import' | 'type' | 'would-block' | 'fd-setsize' | 'crash' | 'assertion' | 'other';

export function classify(e: ErrorInfo): Cause {
  // A wrapper (fast-check's "Property failed") is judged by what it wraps.
  if (e.cause && /^Property failed/.test(e.message)) return classify(e.cause);
  const m = `${e.name}: ${e.message}`;
  if (e.name === 'RunTimeout' || /Test timed out in \d+ ?ms|Hook timed out in/i.test(m)) return 'timeout';
  if (e.name === 'RunnerCrash') return 'crash';
  if (/\bTODO\b|not implemented/i.test(e.message)) return 'todo';
  if (/Failed to (load|resolve) (url|import)|Cannot find module|Cannot find package|does not provide an export named|ERR_MODULE_NOT_FOUND|Transform failed|SyntaxError/.test(m)) return 'import';
  if (e.name === 'WouldBlockError' || /would freeze your event loop/i.test(e.message)) return 'would-block';
  if (e.name === 'FortifyAbort' || /buffer overflow detected/.test(e.message)) return 'fd-setsize';
  if (e.name === 'AssertionError' || e.expected !== undefined) return 'assertion';
  if (e.name === 'TypeError' || /is not a function|Cannot read properties of (undefined|null)|is not iterable/.test(e.message)) return 'type';
  return 'other';
}

export function friendlyHint(cause: Cause, stage: string): string | null {
  const hint = `npm run hint -- ${stage.slice(0, 2)}`;
  switch (cause) {
    case 'todo':
      return `This is still the starter's placeholder: write the function where the TODO is (the README says what it must do).`;
    case 'timeout':
      return `Your code did not finish in time. Usually a wait for an event that never comes (a wake-up missed, a read loop that stops before EAGAIN) or an endless loop. \`${hint}\` helps.`;
    case 'import':
      return `The grader could not load your code: a syntax error, a missing file, or an export renamed. \`npm run typecheck\` shows the exact line.`;
    case 'type':
      return `Something was undefined or not the type the grader expected: a missing \`return\`, or a function/export with another name or shape. \`npm run typecheck\` often points at it.`;
    case 'would-block':
      return `A synchronous call on a blocking socket would freeze the event loop: set O_NONBLOCK (or accept4 with SOCK_NONBLOCK) and handle -EAGAIN.`;
    case 'fd-setsize':
      return `FD_SET was given an fd >= FD_SETSIZE (1024): select() cannot watch it. Check the fd before adding it.`;
    case 'crash':
      return `The test runner itself stopped: often process.exit() or an endless synchronous loop in your code.`;
    default:
      return null;
  }
}

/** First stack frame inside the learner's code (the target dir, not a grader, not the kernel). */
export function learnerFrame(e: ErrorInfo, targetDir: string): { file: string; line: number } | null {
  const root = targetDir.endsWith(path.sep) ? targetDir : targetDir + path.sep;
  const frames = [...(e.cause?.frames ?? []), ...e.frames]; // where the wrapped error was thrown comes first
  for (const f of frames) {
    if (!f.file.startsWith(root)) continue;
    if (/\.test\.ts$/.test(f.file) || f.file.includes(`${path.sep}kernel${path.sep}`) || f.file.includes(`${path.sep}kit${path.sep}`)) continue;
    return { file: f.file, line: f.line };
  }
  return null;
}

const MAX_MSG_LINES = 8;
const MAX_DIFF_LINES = 16;

const MAX_LINE = 240;

function clip(text: string, maxLines: number): string[] {
  const lines = text
    .replace(/\s+$/, '')
    .split('\n')
    .map((l) => (l.length > MAX_LINE ? `${l.slice(0, MAX_LINE)}… (${l.length - MAX_LINE} more characters)` : l));
  return lines.length > maxLines ? [...lines.slice(0, maxLines), `… (${lines.length - maxLines} more lines)`] : lines;
}

const show = (v: string) => (v === '' ? c.dim('(empty)') : v);

/** Two failures with this same key are the same mistake; the report prints the second one short. */
export function failureKey(t: TestRecord, targetDir: string): string {
  const outer = t.errors[0];
  if (!outer) return '';
  const e = outer.cause && /^Property failed/.test(outer.message) ? outer.cause : outer;
  const f = learnerFrame(e, targetDir);
  return `${e.message.split('\n')[0]}@${f ? `${f.file}:${f.line}` : ''}`;
}

export interface ExplainContext {
  stage: string;
  /** Root of the code under test (labs/ or solutions/ or an overlay). */
  targetDir: string;
  /** Reads a source line for the "where it threw" line; undefined when unavailable. */
  sourceLine: (file: string, line: number) => string | undefined;
  relPath: (file: string) => string;
}

export function explainFailure(t: TestRecord, ctx: ExplainContext): string[] {
  const out = [`${c.red('✗')} ${c.bold(`[${ctx.stage}]`)} ${t.name} ${c.dim(`(${path.basename(t.file)})`)}`];
  const ind = '    ';
  const seen = new Set<Cause>();
  for (const e of t.errors.slice(0, 3)) {
    const cause = classify(e);
    // fast-check: the grader's own assertion (the cause) first, then the counterexample.
    if (e.cause && /^Property failed/.test(e.message)) {
      for (const l of clip(e.cause.message.replace(/\x1b\[[0-9;]*m/g, ''), MAX_MSG_LINES)) out.push(ind + l);
    }
    const msg = e.message.replace(/\n+Hint: Enable verbose mode[^\n]*/, '').replace(/\x1b\[[0-9;]*m/g, '').replace(/ \/\/ Object\.is equality$/m, '');
    for (const l of clip(msg, MAX_MSG_LINES)) out.push(ind + l);
    const short = (s?: string) => s !== undefined && !s.includes('\n') && s.length <= 160;
    if (short(e.expected) && short(e.actual)) {
      out.push(`${ind}${c.green('expected:')} ${show(e.expected!)}`);
      out.push(`${ind}${c.red('got:     ')} ${show(e.actual!)}`);
    } else if (e.diff) {
      for (const l of clip(e.diff.replace(/\x1b\[[0-9;]*m/g, ''), MAX_DIFF_LINES)) out.push(ind + l);
    }
    const where = learnerFrame(e, ctx.targetDir);
    if (where) {
      const src = ctx.sourceLine(where.file, where.line)?.trim();
      out.push(`${ind}${c.dim('at')} ${ctx.relPath(where.file)}:${where.line}${src ? c.dim(`   ${src.slice(0, 100)}`) : ''}`);
    }
    const hint = seen.has(cause) ? null : friendlyHint(cause, ctx.stage);
    seen.add(cause);
    if (hint) out.push(`${ind}${c.yellow('→')} ${hint}`);
  }
  if (t.errors.length > 3) out.push(`${ind}… and ${t.errors.length - 3} more errors`);
  return out;
}
