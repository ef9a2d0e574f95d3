// The docs are tested like code: every shell command in docs/**/*.md and in every README either
// holds against the code or says, in a marker above its block, why it is not run
// (<!-- docs-test: not run — reason -->). An npm command must name a script of package.json, its
// --flags must be declared by that script's CLI, a stage number must be a stage; `npx vitest`
// must name a project and files that exist. A few cheap commands really run (in a temp copy where
// they write). Expensive ones (npm install, npm run check, benches) are checked, not run.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { declaresFlag, extractCommands, flagsOf, npmInvocations, sourceClosure, type DocCommand } from '../lib/doc-commands.ts';
import { loadManifest, resolveStage } from '../lib/stages.ts';
import { ROOT } from '../lib/paths.ts';

const run = promisify(execFile);
const SCRIPTS = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
const STAGES = loadManifest().map((s) => s.id);
const VITEST_CONFIG = fs.readFileSync(path.join(ROOT, 'vitest.config.ts'), 'utf8');
/** npm scripts whose positional arguments are stage numbers. */
const STAGE_ARGS = new Set(['test', 'hint', 'lab', 'reset', 'mutation', 'honesty']);
const PLACEHOLDERS = new Set(['NN', 'N', 'P', 'S', 'all']);

/** Every markdown page of the docs and every README (and the kernel's API.md, a README by another name). */
function documentedFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (['node_modules', '.vitepress', '.git', '.wizz', 'dist', 'reports'].includes(e.name)) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (dir.startsWith(path.join(ROOT, 'docs')) ? e.name.endsWith('.md') : e.name === 'README.md') out.push(p);
    }
  };
  walk(ROOT);
  out.push(path.join(ROOT, 'labs/kernel/API.md'));
  return out.sort();
}

const commands: DocCommand[] = documentedFiles().flatMap((f) => extractCommands(path.relative(ROOT, f), fs.readFileSync(f, 'utf8')));
const where = (c: DocCommand) => `${c.file}:${c.line} \`${c.text}\``;

/** The .ts file an npm script runs, or null (vitepress, tsc). */
function entryOf(script: string): string | null {
  return SCRIPTS[script]?.split(/\s+/).find((a) => a.endsWith('.ts')) ?? null;
}
const closures = new Map<string, string>();
function cliSources(script: string): string {
  const entry = entryOf(script);
  if (!entry) return SCRIPTS[script] ?? '';
  if (!closures.has(entry)) closures.set(entry, sourceClosure(ROOT, entry).map((f) => fs.readFileSync(f, 'utf8')).join('\n'));
  return closures.get(entry)!;
}

/** What is wrong with one command, or null. */
function problemOf(c: DocCommand): string | null {
  if (c.notRun !== null) return c.notRun.length >= 8 ? null : `the not-run marker needs a reason: ${where(c)}`;
  const npm = npmInvocations(c.text);
  if (npm) {
    for (const { script, args } of npm) {
      if (script === 'install' || script === 'ci') continue;
      if (!(script in SCRIPTS)) return `${where(c)}: package.json has no script "${script}"`;
      const sources = cliSources(script);
      for (const flag of flagsOf(args)) {
        if (flag === 'help' || declaresFlag(sources, flag)) continue;
        return `${where(c)}: \`npm run ${script}\` (${entryOf(script) ?? SCRIPTS[script]}) declares no --${flag}`;
      }
      if (STAGE_ARGS.has(script)) {
        for (const [k, a] of args.entries()) {
          if (a.startsWith('-') || (k > 0 && /^--/.test(args[k - 1]!)) || PLACEHOLDERS.has(a)) continue;
          if (/^\d{1,2}$/.test(a) && 'error' in resolveStage(a, STAGES)) return `${where(c)}: no stage ${a}`;
        }
      }
    }
    return null;
  }
  const vitest = /^npx vitest run\s+(.*)$/.exec(c.text);
  if (vitest) {
    const words = vitest[1]!.split(/\s+/);
    const project = words[words.indexOf('--project') + 1];
    if (project && !VITEST_CONFIG.includes(`name: '${project}'`)) return `${where(c)}: vitest.config.ts has no project "${project}"`;
    const missing = words.filter((w) => /\.(ts|js)$/.test(w) && !fs.existsSync(path.join(ROOT, w)));
    return missing.length ? `${where(c)}: no such file ${missing.join(', ')}` : null;
  }
  const tsx = /^npx tsx\s+(\S+\.ts)/.exec(c.text);
  if (tsx) return fs.existsSync(path.join(ROOT, tsx[1]!)) ? null : `${where(c)}: no such file ${tsx[1]}`;
  return `${where(c)}: neither an npm script nor a checkable npx command — run it in a test, or put <!-- docs-test: not run — <why> --> on the line above its block`;
}

describe('the commands in the docs and READMEs', () => {
  it('are found (the extraction itself works)', () => {
    expect(commands.length).toBeGreaterThan(100);
    expect(commands.some((c) => c.file === 'README.md' && c.text.startsWith('npm test -- 00'))).toBe(true);
  });

  it('each names an npm script that exists, flags its CLI declares and stages that exist — or says why it is not run', () => {
    const problems = commands.map(problemOf).filter((p): p is string => p !== null);
    expect(problems, `${problems.length} documented command(s) do not hold:\n${problems.join('\n')}`).toEqual([]);
  });

  it('every npm script a page names exists', () => {
    // Also in prose: `npm run x` mentioned without a block.
    const named = commands.flatMap((c) => npmInvocations(c.text) ?? []).map((i) => i.script).filter((s) => s !== 'install' && s !== 'ci');
    expect([...new Set(named.filter((s) => !(s in SCRIPTS)))]).toEqual([]);
  });
});

describe('the checker itself', () => {
  const check = (text: string, notRun: string | null = null) => problemOf({ file: 'x.md', line: 1, text, notRun });
  it('catches a script that does not exist, a flag no CLI declares, a stage that does not exist', () => {
    expect(check('npm run bench:nope')).toMatch(/no script "bench:nope"/);
    expect(check('npm run bench:pool -- --target solutions --wirte')).toMatch(/declares no --wirte/);
    expect(check('npm test -- 42')).toMatch(/no stage 42/);
    expect(check('npm run hint -- 03 --reset')).toBeNull();
    expect(check('WIZZ_REACTORS=2 npm start -- --port 7000')).toBeNull();
    expect(check('npm run bench:pool | bench:ring -- --target solutions --write')).toBeNull();
    expect(check('npx vitest run --project server server/test/nope.test.ts')).toMatch(/no such file/);
  });
  it('wants a marker with a reason for what it cannot check', () => {
    expect(check('sudo sysctl -w x=1')).toMatch(/docs-test: not run/);
    expect(check('sudo sysctl -w x=1', 'changes the machine')).toBeNull();
    expect(check('sudo sysctl -w x=1', 'no')).toMatch(/needs a reason/);
  });
  it('reads blocks, continuation lines, comments and markers out of markdown', () => {
    const md = ['Run `npm test -- 03` first.', '', '<!-- docs-test: not run — needs root -->', '```sh', 'sudo a \\', '  b   # why', '```', '```ts', 'npm not-a-command', '```', '```sh', 'npm run hint -- 03   # a hint', '```'].join('\n');
    expect(extractCommands('x.md', md)).toEqual([
      { file: 'x.md', line: 1, text: 'npm test -- 03', notRun: null },
      { file: 'x.md', line: 5, text: 'sudo a b', notRun: 'needs root' },
      { file: 'x.md', line: 12, text: 'npm run hint -- 03', notRun: null },
    ]);
  });
});

describe('the cheap ones really run', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wizz-docs-cmd-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('`npm run hint -- NN` as the READMEs give it: the first hint, offline, in a copy of the project', async () => {
    const hint = commands.map((c) => npmInvocations(c.text)?.[0]).find((i) => i?.script === 'hint' && /^\d\d$/.test(i.args[0] ?? ''));
    expect(hint, 'the READMEs give `npm run hint -- NN`').toBeDefined();
    // The copy: hint writes .wizz/progress.json next to its scripts/.
    for (const p of ['scripts', 'labs/stages.json', 'server/util/cli.ts', 'package.json']) fs.cpSync(path.join(ROOT, p), path.join(tmp, p), { recursive: true });
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(tmp, 'node_modules'));
    const env = { ...process.env, NO_COLOR: '1' };
    const body = SCRIPTS[hint!.script]!.split(/\s+/);
    const { stdout } = await run(process.execPath, ['--import', 'tsx', ...body.slice(1), ...hint!.args], { cwd: tmp, env, timeout: 20_000 });
    expect(stdout).toMatch(/Hint 1 of 3:/);
    expect(fs.existsSync(path.join(tmp, '.wizz/progress.json')), 'progress is kept in the copy, not in the project').toBe(true);
  }, 30_000);
});
