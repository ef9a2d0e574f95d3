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

/** What usually makes each stage's code wait forever: only that stage's explanation is shown. */
const IO_TIMEOUT = 'a wait for an event that never comes (a read loop that stops before EAGAIN, a write interest never set) or an endless loop';
const TIMEOUT_CAUSES: Record<string, string> = {
  '01': IO_TIMEOUT,
  '02': IO_TIMEOUT,
  '03': IO_TIMEOUT,
  '04': IO_TIMEOUT,
  '05': IO_TIMEOUT,
  '06': 'a consumer asleep on a doorbell nobody rang (a lost wake-up), or a drain loop that never yields to the event loop',
  '07': 'a request the worker never answered (a write batch never flushed, a reply never posted) or a promise left pending when the worker died',
};

export function friendlyHint(cause: Cause, stage: string): string | null {
  const hint = `npm run hint -- ${stage.slice(0, 2)}`;
  switch (cause) {
    case 'todo':
      return `This is still the starter's placeholder: write the function where the TODO is (the README says what it must do).`;
    case 'timeout':
      return `Your code did not finish in time. Usually ${TIMEOUT_CAUSES[stage.slice(0, 2)] ?? 'a wait for something that never comes, or an endless loop'}. \`${hint}\` helps; docs/labs/debugging-hangs.md shows what to print.`;
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

// Messages keep whole sentences: only values (a counterexample, a long string) are shortened, in
// the middle, with their length. Stories of scenario graders are many short lines: room for them.
const MAX_MSG_LINES = 40;
const MAX_DIFF_LINES = 16;
/** A value longer than this is shown as its head, its length and its tail. */
const LONG_VALUE = 120;
const HEAD = 60;
const TAIL = 24;
/** A line still longer than this after its values are shortened is cut in the middle, as a last resort. */
const MAX_LINE = 2_000;

const count = (n: number) => n.toLocaleString('en-US');

/** `v` shortened in the middle, saying how long it is: `[[{"type":0,… (85,012 characters) …}]]`. */
export function shortenMiddle(v: string, head = HEAD, tail = TAIL): string {
  if (v.length <= head + tail + 32) return v;
  return `${v.slice(0, head)}… (${count(v.length)} characters) …${v.slice(-tail)}`;
}

/** End (exclusive) of the quoted string starting at `i`, or -1. */
function stringEnd(s: string, i: number): number {
  const q = s[i]!;
  for (let j = i + 1; j < s.length; j++) {
    if (s[j] === '\\') j++;
    else if (s[j] === q) return j + 1;
  }
  return -1;
}

/** End (exclusive) of the bracketed value starting at `i` (strings inside respected), or -1. */
function bracketEnd(s: string, i: number): number {
  const stack: string[] = [];
  for (let j = i; j < s.length; j++) {
    const ch = s[j]!;
    if (ch === '"') {
      const e = stringEnd(s, j);
      if (e < 0) return -1;
      j = e - 1;
    } else if (ch === '[' || ch === '{') stack.push(ch === '[' ? ']' : '}');
    else if (ch === ']' || ch === '}') {
      if (stack.pop() !== ch) return -1;
      if (stack.length === 0) return j + 1;
    }
  }
  return -1;
}

/**
 * One line of a message with its long values shortened: JSON-like [..]/{..} values, "quoted"
 * strings and long runs without spaces. The prose around them is kept whole.
 */
export function shortenValues(line: string): string {
  if (line.length <= LONG_VALUE) return line;
  let out = '';
  let i = 0;
  // Unbalanced brackets could make every scan run to the end of the line: give scans a budget.
  let budget = 20 * line.length;
  const word = /\S+/y;
  while (i < line.length) {
    const ch = line[i]!;
    let end = -1;
    if ((ch === '[' || ch === '{') && budget > 0) {
      end = bracketEnd(line, i);
      budget -= end > 0 ? end - i : line.length - i;
    } else if (ch === '"') end = stringEnd(line, i);
    if (end > 0) {
      out += shortenMiddle(line.slice(i, end));
      i = end;
      continue;
    }
    if (i === 0 || /\s/.test(line[i - 1]!)) {
      word.lastIndex = i;
      const run = word.exec(line)?.[0];
      if (run && run.length > LONG_VALUE) {
        out += shortenMiddle(run);
        i += run.length;
        continue;
      }
    }
    out += ch;
    i++;
  }
  return out.length > MAX_LINE ? shortenMiddle(out, MAX_LINE / 2, MAX_LINE / 4) : out;
}

function clip(text: string, maxLines: number): string[] {
  const lines = text.replace(/\s+$/, '').split('\n').map(shortenValues);
  return lines.length > maxLines ? [...lines.slice(0, maxLines), `… (${lines.length - maxLines} more lines)`] : lines;
}

const show = (v: string) => (v === '' ? c.dim('(empty)') : v);

/** Two failures with this same key are the same mistake; the report prints the second one short. */
export function failureKey(t: TestRecord, targetDir: string): string {
  const outer = t.errors[0];
  if (!outer) return '';
  const e = outer.cause && /^Property failed/.test(outer.message) ? outer.cause : outer;
  const f = learnerFrame(e, targetDir);
  // Numbers aside: "waited for clients 1–6" and "… 1–5" are the same mistake told twice.
  return `${e.message.split('\n')[0]!.replace(/\d+/g, '#')}@${f ? `${f.file}:${f.line}` : ''}`;
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
    const short = (s?: string) => s !== undefined && !s.includes('\n') && s.length <= 400;
    if (short(e.expected) && short(e.actual)) {
      out.push(`${ind}${c.green('expected:')} ${show(shortenValues(e.expected!))}`);
      out.push(`${ind}${c.red('got:     ')} ${show(shortenValues(e.actual!))}`);
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
