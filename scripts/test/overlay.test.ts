import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildOverlay, listVariants, parseVariantHeader, removeOverlay } from '../lib/overlay.ts';
import { isStarterFile } from '../lib/git.ts';

function tree(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'wizz-ov-'));
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, f)), { recursive: true });
    fs.writeFileSync(path.join(root, f), text);
  }
  return root;
}

describe('variant headers', () => {
  it('reads the mistake and the replaced file', () => {
    expect(parseVariantHeader('// mistake: forgets EAGAIN\n// replaces: server.ts\ncode')).toEqual({ mistake: 'forgets EAGAIN', replaces: 'server.ts' });
  });
  it('rejects a missing header or a path outside the stage', () => {
    expect(parseVariantHeader('export const x = 1;')).toHaveProperty('error');
    expect(parseVariantHeader('// mistake: m\n// replaces: ../../evil.ts')).toHaveProperty('error');
  });
});

describe('buildOverlay', () => {
  const root = tree({
    'labs/03-epoll/wrong/no-et.ts': '// mistake: no EPOLLET\n// replaces: loop.ts\nexport const v = "wrong";\n',
    'labs/03-epoll/wrong/bad.ts': 'no header\n',
    'solutions/03-epoll/loop.ts': 'export const v = "right";\n',
    'solutions/03-epoll/other.ts': 'export const o = 1;\n',
    'solutions/00-packets/frames.ts': 'export const f = 1;\n',
  });
  const variants = listVariants(path.join(root, 'labs/03-epoll'));

  it('lists variants sorted, marking broken headers', () => {
    expect(variants.map((v) => [v.slug, 'error' in v])).toEqual([
      ['bad', true],
      ['no-et', false],
    ]);
  });
  it('copies solutions/ and swaps in the variant, leaving solutions/ untouched', () => {
    const v = variants[1]!;
    if ('error' in v) throw new Error('unexpected');
    const dir = buildOverlay(path.join(root, 'solutions'), v, path.join(root, '.wizz/overlays'));
    expect(fs.readFileSync(path.join(dir, '03-epoll/loop.ts'), 'utf8')).toContain('"wrong"');
    expect(fs.readFileSync(path.join(dir, '03-epoll/other.ts'), 'utf8')).toContain('o = 1');
    expect(fs.existsSync(path.join(dir, '00-packets/frames.ts'))).toBe(true);
    expect(fs.readFileSync(path.join(root, 'solutions/03-epoll/loop.ts'), 'utf8')).toContain('"right"');
    removeOverlay(dir);
    expect(fs.existsSync(dir)).toBe(false);
  });
  it('refuses a variant that replaces a file the solution does not have', () => {
    expect(() => buildOverlay(path.join(root, 'solutions'), { stage: '03-epoll', slug: 'x', file: path.join(root, 'labs/03-epoll/wrong/no-et.ts'), mistake: 'm', replaces: 'nope.ts' }, path.join(root, '.o'))).toThrow(/does not exist/);
  });
});

describe('isStarterFile', () => {
  it('restores starter files only', () => {
    expect(isStarterFile('server.ts')).toBe(true);
    expect(isStarterFile('lib/parse.ts')).toBe(true);
    expect(isStarterFile('server.test.ts')).toBe(false);
    expect(isStarterFile('README.md')).toBe(false);
    expect(isStarterFile('wrong/no-et.ts')).toBe(false);
  });
});
