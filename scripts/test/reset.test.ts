// `npm run reset` in a learner's clone: restores the starter as shipped, even over committed work,
// and keeps the replaced version under .wizz/backups/, saying where.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'wizz-reset-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-C', cwd, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

it('restores the shipped starter over committed work and backs the work up', () => {
  // A tiny "upstream" project: this repository's scripts and package.json, one stage.
  const up = path.join(tmp, 'up');
  fs.mkdirSync(path.join(up, 'labs/00-x'), { recursive: true });
  fs.cpSync(path.join(root, 'scripts'), path.join(up, 'scripts'), { recursive: true });
  fs.mkdirSync(path.join(up, 'server/util'), { recursive: true });
  fs.copyFileSync(path.join(root, 'server/util/cli.ts'), path.join(up, 'server/util/cli.ts')); // the CLIs' flag parsing
  fs.copyFileSync(path.join(root, 'package.json'), path.join(up, 'package.json'));
  fs.writeFileSync(path.join(up, 'labs/stages.json'), JSON.stringify({ stages: [{ id: '00-x', title: 'x', read: 'docs/x.md', imports: [] }] }));
  fs.writeFileSync(path.join(up, 'labs/00-x/a.ts'), '// TODO: write me\n');
  fs.writeFileSync(path.join(up, 'labs/00-x/a.test.ts'), '// grader\n');
  git(up, 'init', '-q');
  git(up, 'add', '-A');
  git(up, 'commit', '-qm', 'ship');
  const clone = path.join(tmp, 'clone');
  execFileSync('git', ['clone', '-q', up, clone]);
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(clone, 'node_modules'));

  fs.writeFileSync(path.join(clone, 'labs/00-x/a.ts'), 'export const mine = 1;\n');
  git(clone, 'commit', '-qam', 'my work');
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/reset.ts', '00', '--yes'], { cwd: clone, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });

  expect(fs.readFileSync(path.join(clone, 'labs/00-x/a.ts'), 'utf8')).toBe('// TODO: write me\n');
  expect(fs.readFileSync(path.join(clone, 'labs/00-x/a.test.ts'), 'utf8')).toBe('// grader\n');
  const where = /kept in (\.wizz\/backups\/[^/\s]+)\//.exec(out)?.[1];
  expect(where, out).toBeTruthy();
  expect(fs.readFileSync(path.join(clone, where!, 'labs/00-x/a.ts'), 'utf8')).toBe('export const mine = 1;\n');
}, 60_000);
