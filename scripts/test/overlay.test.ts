import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PatchError, buildOverlay, listVariants, parsePatch, removeOverlay, type Variant } from '../lib/overlay.ts';
import { labsProblems } from '../lib/labs-clean.ts';
import { isStarterFile } from '../lib/git.ts';

function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'wizz-ov-'));
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), text);
  }
  return root;
}

/** A patch as the brief says to make one: diff -u with a/ b/ labels, headed by the mistake. */
function makePatch(mistake: string, file: string, before: string, after: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wizz-diff-'));
  fs.writeFileSync(path.join(dir, 'a'), before);
  fs.writeFileSync(path.join(dir, 'b'), after);
  let diff = '';
  try {
    execFileSync('diff', ['-u', '--label', `a/${file}`, '--label', `b/${file}`, path.join(dir, 'a'), path.join(dir, 'b')], { encoding: 'utf8' });
  } catch (e) {
    diff = (e as { stdout: string }).stdout; // diff exits 1 when the files differ
  }
  return `# mistake: ${mistake}\n${diff}`;
}

const LOOP = 'export function loop() {\n  register(EPOLLIN | EPOLLET);\n  return 1;\n}\n';

describe('parsePatch', () => {
  it('reads the mistake from the first line and the files from the headers', () => {
    const p = parsePatch(makePatch('no EPOLLET', 'loop.ts', LOOP, LOOP.replace(' | EPOLLET', '')));
    expect(p).toEqual({ mistake: 'no EPOLLET', files: ['loop.ts'] });
  });
  it('reads an optional "# first message:" regex from the second line, and refuses one that is not a regex', () => {
    const body = `--- a/x.ts\n+++ b/x.ts\n@@ -1 +1 @@\n-a\n+b\n`;
    expect(parsePatch(`# mistake: m\n# first message: read until .*EAGAIN\n${body}`)).toEqual({ mistake: 'm', message: 'read until .*EAGAIN', files: ['x.ts'] });
    expect(parsePatch(`# mistake: m\n# first message: (unclosed\n${body}`)).toHaveProperty('error', expect.stringMatching(/not a regular expression/));
  });
  it('wants the mistake on the first line', () => {
    expect(parsePatch(`--- a/x.ts\n+++ b/x.ts\n@@ -1 +1 @@\n-a\n+b\n`)).toHaveProperty('error', expect.stringMatching(/first line/));
    expect(parsePatch(`\n# mistake: late\n--- a/x.ts\n+++ b/x.ts\n`)).toHaveProperty('error');
  });
  it('rejects paths outside the stage folder, unlabelled paths and empty patches', () => {
    expect(parsePatch('# mistake: m\n--- a/../../server/x.ts\n+++ b/../../server/x.ts\n@@ -1 +1 @@\n-a\n+b\n')).toHaveProperty('error', expect.stringMatching(/inside the stage folder/));
    expect(parsePatch('# mistake: m\n--- x.ts\n+++ x.ts\n@@ -1 +1 @@\n-a\n+b\n')).toHaveProperty('error', expect.stringMatching(/a\/<file>/));
    expect(parsePatch('# mistake: m\njust words\n')).toHaveProperty('error', expect.stringMatching(/no file changes/));
  });
  it('does not take a removed "-- x" line inside a hunk for a file header', () => {
    const before = 'const sql = `\n-- keep me\nSELECT 1`;\n';
    const p = parsePatch(makePatch('drops a comment', 'store.ts', before, before.replace('-- keep me\n', '')));
    expect(p).toEqual({ mistake: 'drops a comment', files: ['store.ts'] });
  });
});

describe('buildOverlay', () => {
  const root = tree({
    'solutions/03-epoll/loop.ts': LOOP,
    'solutions/03-epoll/other.ts': 'export const o = 1;\n',
    'solutions/00-packets/frames.ts': 'export const f = 1;\n',
  });
  const write = (slug: string, text: string) => {
    fs.mkdirSync(path.join(root, 'solutions/03-epoll/wrong'), { recursive: true });
    fs.writeFileSync(path.join(root, `solutions/03-epoll/wrong/${slug}.patch`), text);
  };
  write('no-et', makePatch('no EPOLLET', 'loop.ts', LOOP, LOOP.replace(' | EPOLLET', '')));
  write('stale', makePatch('stale', 'loop.ts', LOOP.replace('return 1', 'return 2'), LOOP.replace('return 1', 'return 3')));
  write('bad', 'no header\n');
  const variants = listVariants(path.join(root, 'solutions/03-epoll'));
  const get = (slug: string) => variants.find((v) => v.slug === slug) as Variant;
  const parent = path.join(root, '.wizz/overlays/run');

  it('lists variants sorted, marking broken ones', () => {
    expect(variants.map((v) => [v.slug, 'error' in v])).toEqual([
      ['bad', true],
      ['no-et', false],
      ['stale', false],
    ]);
  });
  it('copies solutions/ without wrong/ and applies the patch in the stage folder, leaving solutions/ untouched', () => {
    const dir = buildOverlay(path.join(root, 'solutions'), get('no-et'), parent);
    expect(fs.readFileSync(path.join(dir, '03-epoll/loop.ts'), 'utf8')).toBe(LOOP.replace(' | EPOLLET', ''));
    expect(fs.readFileSync(path.join(dir, '03-epoll/other.ts'), 'utf8')).toContain('o = 1');
    expect(fs.existsSync(path.join(dir, '00-packets/frames.ts'))).toBe(true);
    expect(fs.existsSync(path.join(dir, '03-epoll/wrong'))).toBe(false);
    expect(fs.readFileSync(path.join(root, 'solutions/03-epoll/loop.ts'), 'utf8')).toBe(LOOP);
    removeOverlay(dir);
    expect(fs.existsSync(dir)).toBe(false);
  });
  it('refuses a patch that no longer applies: never graded, never "caught"', () => {
    expect(() => buildOverlay(path.join(root, 'solutions'), get('stale'), parent)).toThrow(PatchError);
    expect(() => buildOverlay(path.join(root, 'solutions'), get('stale'), parent)).toThrow(/does not apply/);
  });
  it('refuses a patch for a file the solution does not have', () => {
    const v: Variant = { ...get('no-et'), files: ['nope.ts'] };
    fs.writeFileSync(path.join(root, 'nope.patch'), makePatch('m', 'nope.ts', 'a\n', 'b\n'));
    expect(() => buildOverlay(path.join(root, 'solutions'), { ...v, file: path.join(root, 'nope.patch') }, parent)).toThrow(/does not apply/);
  });
});

describe('labsProblems', () => {
  it('finds wrong/ folders, patches, variant headers and files that are neither starter, grader nor README', () => {
    const root = tree({
      'labs/03-epoll/server.ts': '// the starter\n',
      'labs/03-epoll/chat.test.ts': '',
      'labs/03-epoll/README.md': '',
      'labs/03-epoll/wrong/no-et.ts': '// mistake: x\n// replaces: server.ts\n',
      'labs/03-epoll/server-done.ts': 'export {}\n',
      'labs/03-epoll/fix.patch': '',
      'labs/kit/helper.ts': '// mistake: leaked variant\n',
      'solutions/03-epoll/server.ts': '',
    });
    const found = labsProblems(path.join(root, 'labs'), path.join(root, 'solutions'), ['03-epoll']).map((p) => p.file).sort();
    expect(found).toEqual(['03-epoll/fix.patch', '03-epoll/server-done.ts', '03-epoll/wrong/no-et.ts', 'kit/helper.ts']);
  });
  it('passes a clean workspace', () => {
    const root = tree({ 'labs/03-epoll/server.ts': '', 'labs/03-epoll/chat.test.ts': '', 'labs/03-epoll/README.md': '', 'solutions/03-epoll/server.ts': '' });
    expect(labsProblems(path.join(root, 'labs'), path.join(root, 'solutions'), ['03-epoll'])).toEqual([]);
  });
});

describe('isStarterFile', () => {
  it('restores starter files only', () => {
    expect(isStarterFile('server.ts')).toBe(true);
    expect(isStarterFile('lib/parse.ts')).toBe(true);
    expect(isStarterFile('server.test.ts')).toBe(false);
    expect(isStarterFile('README.md')).toBe(false);
  });
});
