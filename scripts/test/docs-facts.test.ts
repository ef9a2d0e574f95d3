// What the learner's pages state about the labs is checked against the code: the files they name
// exist, the kernel constants and errnos they name are the emulated kernel's, the error codes and
// error classes are ones the code has, the functions, fields and counters they name in backticks
// are declared somewhere a learner can find them (the stage, labs/kit, labs/kernel, the scripts, or
// Node's and TypeScript's own declarations), and the benches measure what chapter 4 says.
// A page that drifts from the code fails here, with the page, the line and the name.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../lib/paths.ts';

const read = (p: string) => fs.readFileSync(path.join(ROOT, p), 'utf8');
const list = (dir: string, re: RegExp) =>
  (fs.readdirSync(path.join(ROOT, dir), { recursive: true }) as string[]).filter((f) => re.test(f) && !f.includes('node_modules')).map((f) => path.join(dir, f));

/** The learner's side of the docs: chapters, Q&A, lab pages, the graders and kernel reference, the READMEs. */
const PAGES = [
  ...list('docs/chapters', /\.md$/),
  ...list('docs/qa', /\.md$/),
  ...list('docs/labs', /\.md$/),
  'docs/reference/graders.md',
  ...list('docs/reference/kernel', /\.md$/),
  ...list('labs', /^\d\d-[\w-]+[\\/]README\.md$/),
  'labs/kit/README.md',
  'labs/kernel/API.md',
].sort();

/**
 * Backticked spans of a page with their line numbers. Fenced blocks are left out (code, tested
 * elsewhere), and so are sections that list what the emulator leaves out ("## What is left out"):
 * the names there are Linux's, named precisely because the kernel does not have them.
 */
function spans(file: string): Array<{ text: string; line: number }> {
  const out: Array<{ text: string; line: number }> = [];
  let fenced = false;
  let leftOut = false;
  for (const [i, l] of read(file).split('\n').entries()) {
    if (l.trim().startsWith('```')) {
      fenced = !fenced;
      continue;
    }
    if (fenced) continue;
    if (/^#{1,6} /.test(l)) leftOut = /left out|not emulated/i.test(l);
    if (leftOut) continue;
    for (const m of l.matchAll(/`([^`\n]+)`/g)) out.push({ text: m[1]!, line: i + 1 });
  }
  return out;
}

/** Names that are not the code's on purpose, each with the reason the page names it. */
const FOREIGN = new Set([
  'ValueError', // Python's select() error, quoted on the select page
  'ENFILE', // Linux's system-wide limit, which the 03 README says the emulator does not have
]);

/** The sources a learner can read: the labs (kernel, kit, stages), the solutions, the scripts and the server. */
const SOURCES = [...list('labs', /\.ts$/), ...list('solutions', /\.ts$/), ...list('scripts', /\.ts$/), ...list('server', /\.ts$/)].map(read).join('\n');
/** Node's and the language's own declarations, for API names (Atomics.waitAsync, takeRecords, allocUnsafe…). */
const PLATFORM = [
  ...list('node_modules/@types/node', /\.d\.ts$/),
  ...list('node_modules/typescript/lib', /^lib\.[\w.]+\.d\.ts$/),
  ...list('node_modules/better-sqlite3', /\.d\.ts$/),
  ...list('node_modules/@types/better-sqlite3', /\.d\.ts$/),
].map(read).join('\n');
const KERNEL = list('labs/kernel', /^(?!.*test)[\w/-]+\.ts$/).map(read).join('\n');

const problems = (check: (file: string, span: { text: string; line: number }) => string | null): string[] =>
  PAGES.flatMap((file) => spans(file).map((s) => check(file, s)).filter((p): p is string => p !== null).map((p) => `${file}:${p}`));

describe('the pages name what the code has', () => {
  it('every file and folder path they give exists', () => {
    const bad = problems((file, { text, line }) => {
      const m = /^(?:\.\.\/)*((?:labs|scripts|server|solutions|docs)\/[\w./-]+?)(?:#[\w-]+)?$/.exec(text);
      if (!m || /NN|\*|<|\{/.test(text)) return null;
      return fs.existsSync(path.join(ROOT, m[1]!)) ? null : `${line}: no such path \`${text}\``;
    });
    expect(bad, bad.join('\n')).toEqual([]);
  });

  it("a lab README's file names are files of the stage, the kit or the kernel", () => {
    const bad = problems((file, { text, line }) => {
      const stage = /^labs\/(\d\d-[\w-]+)\/README\.md$/.exec(file)?.[1];
      if (!stage || !/^[\w-]+(\.test)?\.(ts|json)$/.test(text)) return null;
      const places = [`labs/${stage}`, `solutions/${stage}`, 'labs/kit', 'labs/kernel', 'labs/kit/scenario'];
      return places.some((d) => fs.existsSync(path.join(ROOT, d, text))) ? null : `${line}: \`${text}\` is in none of ${places.join(', ')}`;
    });
    expect(bad, bad.join('\n')).toEqual([]);
  });

  it('every kernel constant and errno they name is the emulated kernel’s (EPOLLET, EV_CLEAR, EMFILE…)', () => {
    const bad = problems((file, { text, line }) => {
      const names = text.match(/\b(?:E[A-Z]{3,}|EPOLL[A-Z_]+|EV_[A-Z]+|EVFILT_[A-Z]+|POLL[A-Z]+|SOCK_[A-Z]+|RLIMIT_[A-Z]+|FD_[A-Z]+|SO_[A-Z]+|SHUT_[A-Z]+|O_[A-Z]+|F_[A-Z]+)\b/g) ?? [];
      const missing = names.filter((n) => !new RegExp(`\\b${n}\\b`).test(KERNEL) && !/^(ERROR|EOF)$/.test(n) && !FOREIGN.has(n));
      return missing.length && (file.startsWith('labs/') || file.startsWith('docs/reference/kernel')) ? `${line}: \`${text}\` — ${missing.join(', ')} not in labs/kernel` : null;
    });
    expect(bad, bad.join('\n')).toEqual([]);
  });

  it('every protocol error code they name (ERROR server_full, bad_frame…) is one the code sends', () => {
    const bad = problems((file, { text, line }) => {
      const codes = [...text.matchAll(/\bERROR\s*\{?\s*(?:code:\s*)?['"]?([a-z][a-z_]+)/g)].map((m) => m[1]!);
      const missing = codes.filter((code) => !SOURCES.includes(`'${code}'`) && !SOURCES.includes(`"${code}"`));
      return missing.length ? `${line}: \`${text}\` — no code sends ${missing.join(', ')}` : null;
    });
    expect(bad, bad.join('\n')).toEqual([]);
  });

  it("the functions a lab README tells you to write or call are in the stage, the kit or the kernel", () => {
    const bad = problems((file, { text, line }) => {
      const stage = /^labs\/(\d\d-[\w-]+)\/README\.md$/.exec(file)?.[1];
      if (!stage) return null;
      const here = [...list(`labs/${stage}`, /\.ts$/), ...list('labs/kit', /\.ts$/), ...list('labs/kernel', /\.ts$/)].map(read).join('\n');
      const calls = [...text.matchAll(/(?:^|[\s.(])([a-zA-Z_]\w*)\(/g)].map((m) => m[1]!);
      const missing = calls.filter((name) => !new RegExp(`\\b${name}\\b`).test(here) && !new RegExp(`\\b${name}\\b`).test(PLATFORM));
      return missing.length ? `${line}: \`${text}\` — ${missing.join(', ')} is in none of labs/${stage}, labs/kit, labs/kernel` : null;
    });
    expect(bad, bad.join('\n')).toEqual([]);
  });

  it('every error class, function, field and counter they name in backticks is declared somewhere', () => {
    const declared = (name: string) => FOREIGN.has(name) || new RegExp(`\\b${name}\\b`).test(SOURCES) || new RegExp(`\\b${name}\\b`).test(PLATFORM);
    const bad = problems((file, { text, line }) => {
      // `name()`, `obj.name`, `name` in camelCase, or `SomethingError`: identifiers, not prose.
      const ids = [...text.matchAll(/(?<![\w.#/-])([a-z]+[A-Z]\w*|[A-Z]\w*Error)(?=\(|\b)/g)].map((m) => m[1]!);
      const missing = ids.filter((id) => !declared(id));
      return missing.length ? `${line}: \`${text}\` — ${[...new Set(missing)].join(', ')} declared nowhere in labs/, solutions/, scripts/, server/ or Node's types` : null;
    });
    expect(bad, bad.join('\n')).toEqual([]);
  });
});

describe('code on the pages comes from the source', () => {
  it('every `<<< @/file#region` import names a file and a region that exist', () => {
    const imports = list('docs', /\.md$/).flatMap((page) =>
      [...read(page).matchAll(/^<<< @\/(\S+?)(?:#([\w-]+))?(?:\{\w+\})?\s*$/gm)].map((m) => ({ page, file: path.normalize(path.join('docs', m[1]!)), region: m[2] })),
    );
    expect(imports.length, 'the kernel reference and the hang page import their examples').toBeGreaterThanOrEqual(4);
    for (const { page, file, region } of imports) {
      expect(fs.existsSync(path.join(ROOT, file)), `${page}: imports ${file}, which does not exist`).toBe(true);
      if (region) expect(read(file), `${page}: ${file} has no #region ${region}`).toMatch(new RegExp(`#region ${region}\\b[^]*#endregion ${region}\\b`));
    }
  });
});

describe('the counters a page says a lab is graded by', () => {
  it("chapter 3's lab 05 counters are fields of the pool's stats (PoolStats)", () => {
    const lab = read('docs/chapters/03-pools.md').split('## Lab')[1] ?? '';
    const named = [...(/`stats`: ([^)]*)/.exec(lab)?.[1] ?? '').matchAll(/`(\w+)`/g)].map((m) => m[1]!);
    expect(named.length, 'chapter 3 names the counters lab 05 is graded by').toBeGreaterThan(0);
    const stats = /interface PoolStats \{([^}]*)\}/.exec(read('labs/05-pool/pool.ts'))![1]!;
    for (const field of named) expect(stats, `chapter 3 says lab 05 counts \`${field}\`; PoolStats has no such field`).toMatch(new RegExp(`\\b${field}:`));
  });
});

describe('the benches measure what the pages say', () => {
  const table = read('docs/chapters/04-measure.md');
  for (const [script, stage] of [['pollers', '04-kqueue'], ['pool', '05-pool'], ['ring', '06-ring']] as const) {
    it(`bench:${script} measures your labs/${stage} by default and writes docs/data only with --write`, () => {
      const source = read(`scripts/bench/${script}.ts`);
      expect(table).toMatch(new RegExp(`npm run bench:${script}\` \\|[^|]+\\| your stage ${stage.slice(0, 2)}`));
      expect(source, 'through benchArgs: --target labs by default').toMatch(/benchArgs\(/);
      expect(source, `it loads the stage from the target (stageFile), not from solutions/ directly`).toMatch(new RegExp(`stageFile\\('${stage}/`));
      expect(source, 'writes only when asked').toMatch(/args\.write/);
    });
  }
  it('bench:kernel writes docs/data only with --write', () => {
    expect(read('scripts/bench/kernel.ts')).toMatch(/if \(write\)/);
  });
});
