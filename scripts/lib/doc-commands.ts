// The shell commands the docs and READMEs give, read out of their markdown so that a test can hold
// each one to the code: every line of a ```sh block (comments and continuation lines joined), and
// every inline `npm …` / `npx …` span. A block the test cannot run or check says why just above
// its fence: <!-- docs-test: not run — <reason> --> (hidden on the site and on GitHub).
import fs from 'node:fs';
import path from 'node:path';

export interface DocCommand {
  file: string;
  line: number;
  /** The command as written, comment removed, continuation lines joined. */
  text: string;
  /** Why it is not checked, from a docs-test marker above its block; null = checked. */
  notRun: string | null;
}

const FENCE = /^```(sh|bash|shell|console)\s*$/;
const MARKER = /<!--\s*docs-test:\s*not run\s*[—–-]+\s*(.+?)\s*-->/;

/** Every command of one markdown text. */
export function extractCommands(file: string, markdown: string): DocCommand[] {
  const lines = markdown.split('\n');
  const out: DocCommand[] = [];
  let inBlock = false;
  let notRun: string | null = null;
  let pending: { text: string; line: number } | null = null;
  let otherFence = false;
  for (const [i, raw] of lines.entries()) {
    if (!inBlock && !otherFence && FENCE.test(raw.trim())) {
      // The marker is the last non-blank line before the fence.
      const before = lines.slice(0, i).reverse().find((l) => l.trim() !== '') ?? '';
      notRun = MARKER.exec(before)?.[1] ?? null;
      inBlock = true;
      continue;
    }
    if (!inBlock && raw.trim().startsWith('```')) {
      otherFence = !otherFence; // a ```ts or ``` block: its contents are not prose
      continue;
    }
    if (inBlock) {
      if (raw.trim() === '```') {
        inBlock = false;
        continue;
      }
      const body = stripComment(raw).trim();
      if (pending) {
        pending.text += ' ' + body.replace(/\\$/, '').trim();
        if (!body.endsWith('\\')) {
          out.push({ file, line: pending.line, text: pending.text.trim(), notRun });
          pending = null;
        }
        continue;
      }
      if (!body) continue;
      if (body.endsWith('\\')) pending = { text: body.replace(/\\$/, '').trim(), line: i + 1 };
      else out.push({ file, line: i + 1, text: body, notRun });
      continue;
    }
    if (otherFence) continue;
    for (const m of raw.matchAll(/`((?:npm|npx) [^`]+)`/g)) out.push({ file, line: i + 1, text: m[1]!.trim(), notRun: null });
  }
  return out;
}

/** A shell line without its trailing `# comment` (a # inside quotes or a word stays). */
function stripComment(line: string): string {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote) {
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i);
  }
  return line;
}

export interface NpmInvocation {
  /** package.json script name: "test", "start", "hint", "bench:pool"…; "install"/"ci" for npm's own. */
  script: string;
  /** What follows `--`. */
  args: string[];
}

/**
 * The npm script invocations of a command: `npm test -- 03`, `npm run x -- --flag`, `VAR=1 npm start`,
 * and the docs' shorthand for alternatives, `npm run bench:pool | bench:ring -- --target solutions`
 * (both scripts, same arguments) or `npm run mutation -- 03 | all` (one script, either argument).
 * Square brackets mark optional parts: their contents are kept. Null when it is not an npm command.
 */
export function npmInvocations(text: string): NpmInvocation[] | null {
  let t = text.replace(/[[\]]/g, ' ').replace(/\s+&\s*$/, '').trim();
  t = t.replace(/^(?:[A-Z_][A-Z0-9_]*=\S+\s+)+/, ''); // environment assignments
  const m = /^npm\s+(run\s+(\S+)|test|start|install|ci)\b\s*(.*)$/.exec(t);
  if (!m) return null;
  const first = m[2] ?? m[1]!;
  let rest = m[3]!;
  const scripts = [first];
  // `| other:script` right after the script name: alternatives sharing the arguments.
  for (let alt = /^\|\s*([a-z][\w:-]*)\s*(.*)$/.exec(rest); alt; alt = /^\|\s*([a-z][\w:-]*)\s*(.*)$/.exec(rest)) {
    scripts.push(alt[1]!);
    rest = alt[2]!;
  }
  const args = rest.replace(/^--\s*/, '').split(/\s+/).filter((a) => a && a !== '|' && a !== '--');
  return scripts.map((script) => ({ script, args }));
}

/** The `--flags` among arguments (a `--name=value` gives `name`). */
export function flagsOf(args: string[]): string[] {
  return args.filter((a) => /^--[a-z]/.test(a)).map((a) => a.slice(2).split('=')[0]!);
}

/**
 * The source files a CLI entry runs: the entry and the project files it imports, transitively
 * (relative imports and the #kernel/#kit/#server package imports; node_modules aside).
 */
export function sourceClosure(root: string, entry: string, limit = 200): string[] {
  const seen = new Set<string>();
  const queue = [path.resolve(root, entry)];
  while (queue.length && seen.size < limit) {
    const file = queue.shift()!;
    if (seen.has(file) || !fs.existsSync(file)) continue;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"]([^'"]+\.ts)['"]/g)) {
      const spec = m[1]!;
      const mapped = spec.startsWith('#kernel/') ? path.join(root, 'labs/kernel', spec.slice(8))
        : spec.startsWith('#kit/') ? path.join(root, 'labs/kit', spec.slice(5))
        : spec.startsWith('#server/') ? path.join(root, 'server', spec.slice(8))
        : spec.startsWith('.') ? path.resolve(path.dirname(file), spec)
        : null;
      if (mapped && !mapped.includes(`${path.sep}node_modules${path.sep}`)) queue.push(mapped);
    }
  }
  return [...seen];
}

/** Whether a flag name is declared in a CLI's sources: as an option key or a quoted name. */
export function declaresFlag(sources: string, flag: string): boolean {
  const name = flag.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(['"\`])${name}\\1|(^|[\\s{,])${name}\\s*:`, 'm').test(sources);
}
