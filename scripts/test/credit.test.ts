import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assessCredit } from '../lib/credit.ts';
import { starterSource, shippedStarter, changedFiles } from '../lib/starter.ts';
import { emptyStage, type RunResult, type StageResult } from '../lib/results.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wizz-credit-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-C', cwd, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** A project with one stage, shipped with a TODO starter, cloned the way a learner gets it. */
function project(): { upstream: string; clone: string } {
  const upstream = fs.mkdtempSync(path.join(tmp, 'up-'));
  git(upstream, 'init', '-q');
  fs.mkdirSync(path.join(upstream, 'labs/00-x'), { recursive: true });
  fs.writeFileSync(path.join(upstream, 'labs/00-x/a.ts'), 'export const f = () => { throw new Error("TODO"); };\n');
  fs.writeFileSync(path.join(upstream, 'labs/00-x/a.test.ts'), 'grader\n');
  fs.writeFileSync(path.join(upstream, 'labs/00-x/README.md'), 'readme\n');
  fs.mkdirSync(path.join(upstream, 'labs/00-x/wrong'));
  fs.writeFileSync(path.join(upstream, 'labs/00-x/wrong/bad.ts'), '// mistake: an old-style variant\n');
  git(upstream, 'add', '-A');
  git(upstream, 'commit', '-qm', 'ship');
  const clone = path.join(tmp, `clone-${path.basename(upstream)}`);
  execFileSync('git', ['clone', '-q', upstream, clone]);
  return { upstream, clone };
}

const result = (passing: string[], failed: number, aborted = false): StageResult => ({
  ...emptyStage('00-x'),
  passed: passing.length,
  failed,
  passing,
  failures: Array.from({ length: failed }, (_, i) => ({
    file: 'labs/00-x/a.test.ts',
    name: `f${i}`,
    state: 'failed' as const,
    errors: [{ name: aborted ? 'RunTimeout' : 'Error', message: 'x', frames: [] }],
    durationMs: 0,
  })),
});
const free = 'labs/00-x/a.test.ts > already passes';

describe('shippedStarter', () => {
  it('reads the starter from upstream, so a learner who commits their work still compares with the original', () => {
    const { clone } = project();
    fs.writeFileSync(path.join(clone, 'labs/00-x/a.ts'), 'export const f = () => 1;\n');
    git(clone, 'commit', '-qam', 'my work');
    const src = starterSource(undefined, clone)!;
    expect(src.upstream).toBe(true);
    const shipped = shippedStarter('00-x', src)!;
    expect([...shipped.files.keys()]).toEqual(['a.ts']); // graders, README and wrong/ variants are not starter files
    expect(changedFiles(shipped, path.join(clone, 'labs/00-x'))).toEqual(['a.ts']);
  });
});

describe('assessCredit', () => {
  it('an untouched stage is not edited, and its run teaches which checks the starter passes', async () => {
    const { clone } = project();
    fs.rmSync(path.join(clone, 'labs/00-x/wrong'), { recursive: true }); // variants moved out: not an edit
    const cacheFile = path.join(clone, '.wizz/baseline.json');
    const opts = { targetDir: path.join(clone, 'labs'), source: starterSource(undefined, clone), cacheFile };
    const first = await assessCredit(new Map([['00-x', result([free], 3)]]), opts);
    expect(first.get('00-x')).toEqual({ edited: false, starterPasses: new Set([free]) });
    // Edited later: the baseline comes from the cache, no grading needed.
    fs.appendFileSync(path.join(clone, 'labs/00-x/a.ts'), '// started\n');
    const gradeStarters = () => Promise.reject(new Error('must not grade: the baseline is cached'));
    const later = await assessCredit(new Map([['00-x', result([], 4)]]), { ...opts, gradeStarters });
    expect(later.get('00-x')).toEqual({ edited: true, starterPasses: new Set([free]) });
  });

  it('a run cut short by a timeout does not become the baseline', async () => {
    const { clone } = project();
    const opts = { targetDir: path.join(clone, 'labs'), source: starterSource(undefined, clone), cacheFile: path.join(clone, '.wizz/b.json') };
    const c = await assessCredit(new Map([['00-x', result([], 1, true)]]), opts);
    expect(c.get('00-x')).toEqual({ edited: false, starterPasses: null });
    expect(fs.existsSync(opts.cacheFile)).toBe(false);
  });

  it('an edited stage never seen untouched: grades the shipped starter once in an overlay', async () => {
    const { clone } = project();
    fs.writeFileSync(path.join(clone, 'labs/00-x/a.ts'), 'export const f = () => 1;\n');
    const seen: string[] = [];
    const gradeStarters = async (dir: string, ids: string[]): Promise<RunResult> => {
      seen.push(fs.readFileSync(path.join(dir, '00-x/a.ts'), 'utf8'), ...ids);
      return {
        tests: [
          { file: 'labs/00-x/a.test.ts', name: 'already passes', state: 'passed', errors: [], durationMs: 0 },
          { file: 'labs/00-x/a.test.ts', name: 'f0', state: 'failed', errors: [], durationMs: 0 },
        ],
        unhandled: [],
      };
    };
    const opts = {
      targetDir: path.join(clone, 'labs'),
      source: starterSource(undefined, clone),
      cacheFile: path.join(clone, '.wizz/b.json'),
      overlayParent: path.join(clone, '.wizz/overlays'),
      gradeStarters,
    };
    const c = await assessCredit(new Map([['00-x', result([], 4)]]), opts);
    expect(seen).toEqual(['export const f = () => { throw new Error("TODO"); };\n', '00-x']);
    expect(c.get('00-x')).toEqual({ edited: true, starterPasses: new Set([free]) });
    expect(fs.readdirSync(path.join(clone, '.wizz/overlays'))).toEqual([]); // the overlay is removed
    // Second time: cached.
    const again = await assessCredit(new Map([['00-x', result([], 4)]]), { ...opts, gradeStarters: () => Promise.reject(new Error('cached')) });
    expect(again.get('00-x')?.starterPasses).toEqual(new Set([free]));
  });

  it('without git, nothing is known: the scoreboard falls back to counting', async () => {
    const c = await assessCredit(new Map([['00-x', result([], 2)]]), { targetDir: tmp, source: null, cacheFile: path.join(tmp, 'none.json') });
    expect(c.get('00-x')).toEqual({ edited: null, starterPasses: null });
  });
});
