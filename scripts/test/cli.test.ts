// Every command-line tool a learner or maintainer runs answers `--help` with its usage, and a
// mistyped flag with one line and the usage — never a stack trace (ERR_PARSE_ARGS_*). They all
// parse through one helper (server/util/cli.ts, or scripts/bench/target.ts on top of it), so the
// helper's behaviour is tested once, in process, and each CLI is checked to use it; the two
// commands two learners actually mistyped run for real.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseCommand, parseFlags } from '../../server/util/cli.ts';
import { ROOT } from '../lib/paths.ts';

const run = promisify(execFile);
const SCRIPTS = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** The CLIs of the learner's and the maintainer's side (the server's own CLIs have their tests). */
const CLIS = ['test', 'watch', 'hint', 'reset', 'lab', 'check', 'honesty', 'mutation', 'docs:test', 'bench:kernel', 'bench:pollers', 'bench:pool', 'bench:ring', 'bench:server', 'bench:cluster', 'profile', 'profile:lab'];

class Exit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

describe('the one flag helper', () => {
  afterEach(() => vi.restoreAllMocks());
  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
    vi.spyOn(console, 'error').mockImplementation((s: string) => void err.push(s));
    vi.spyOn(process, 'exit').mockImplementation((code) => {
      throw new Exit(Number(code));
    });
    return { out, err };
  };

  it('--help prints the usage and exits 0', () => {
    const { out } = capture();
    expect(() => parseCommand({ x: { type: 'string' } }, 'usage: tool', ['03', '--help'])).toThrow(new Exit(0));
    expect(out).toEqual(['usage: tool']);
  });

  it('an unknown flag is one line naming it, then the usage, exit 2', () => {
    const { err } = capture();
    expect(() => parseCommand({ x: { type: 'string' } }, 'usage: tool', ['00', '--bogus'])).toThrow(new Exit(2));
    expect(err[0]!.split('\n')[0]).toBe("Unknown option '--bogus'.");
    expect(err[0]).toContain('usage: tool');
    expect(err[0], "node's advice about positionals is noise here").not.toMatch(/positional/);
  });

  it('a flag without its value likewise', () => {
    const { err } = capture();
    expect(() => parseFlags({ seed: { type: 'string' } }, 'usage: tool', ['--seed'])).toThrow(new Exit(2));
    expect(err[0]!.split('\n')[0]).toMatch(/--seed <value>' argument missing/);
  });
});

describe('every CLI', () => {
  for (const name of CLIS) {
    it(`npm run ${name} parses its flags with the helper (so --help and a bad flag behave)`, () => {
      const entry = SCRIPTS[name]?.split(/\s+/).find((a) => a.endsWith('.ts'));
      expect(entry, `package.json runs a .ts file for ${name}`).toBeDefined();
      const source = fs.readFileSync(path.join(ROOT, entry!), 'utf8');
      // profile:lab is stage 08's own file, which may import only node:* — it keeps the same contract by hand.
      const helper = name === 'profile:lab' ? /parseArgs\(/.test(source) && /--help|help:/.test(source) && /usage/i.test(source) : /\b(parseFlags|parseCommand|benchArgs)\(/.test(source);
      expect(helper, `${entry} parses through server/util/cli.ts (parseFlags/parseCommand) or benchArgs`).toBe(true);
      if (name !== 'profile:lab') expect(source, `${entry} calls node's parseArgs itself: a bad flag would be a stack trace`).not.toMatch(/\bparseArgs\(\{/);
    });
  }
});

describe('the flags two learners mistyped', () => {
  const grade = async (...args: string[]) => {
    try {
      await run(process.execPath, ['--import', 'tsx', 'scripts/grade.ts', ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, timeout: 20_000 });
      return { code: 0, err: '' };
    } catch (e) {
      const x = e as { code?: number; stderr?: string };
      return { code: x.code ?? 1, err: x.stderr ?? '' };
    }
  };
  it('`npm test -- --seed` and `npm test -- 00 --bogus`: one line and the usage, no stack trace', async () => {
    const [seed, bogus] = await Promise.all([grade('--seed'), grade('00', '--bogus')]);
    for (const r of [seed, bogus]) {
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^usage: npm test/m);
      expect(r.err).not.toMatch(/ERR_PARSE_ARGS|^\s+at /m);
    }
    expect(seed.err.split('\n')[0]).toMatch(/--seed/);
    expect(bogus.err.split('\n')[0]).toMatch(/--bogus/);
  }, 30_000);
});
