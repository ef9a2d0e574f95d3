import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { forget, loadProgress, parseProgress, revealNext, saveProgress } from '../lib/progress.ts';
import { countMermaidFences } from '../lib/markdown.ts';
import { pageUrlPath, resolveFile } from '../lib/static-server.ts';

describe('hint progress', () => {
  it('reveals one more hint each time, up to the total', () => {
    let p = parseProgress(null);
    const shown: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = revealNext(p, '03-epoll', 3);
      p = r.progress;
      shown.push(r.shown);
    }
    expect(shown).toEqual([1, 2, 3, 3]);
    expect(revealNext(p, '03-epoll', 3).isNew).toBe(false);
    expect(forget(p, '03-epoll').hintsShown).toEqual({});
  });
  it('survives a restart and shrugs off a broken file', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'wizz-p-')), 'sub', 'progress.json');
    saveProgress({ hintsShown: { '01-select': 2 } }, file);
    expect(loadProgress(file)).toEqual({ hintsShown: { '01-select': 2 } });
    fs.writeFileSync(file, '{ not json');
    expect(loadProgress(file)).toEqual({ hintsShown: {} });
    expect(parseProgress('{"hintsShown":{"a":-1,"b":"x","c":2}}')).toEqual({ hintsShown: { c: 2 } });
  });
});

describe('countMermaidFences', () => {
  it('counts diagrams, not fences shown inside a longer code sample', () => {
    const md = ['# t', '```mermaid', 'graph LR', 'a-->b', '```', '', '````md', '```mermaid', 'x', '```', '````', '~~~ mermaid', 'y', '~~~', '```ts', 'const a = 1', '```'].join('\n');
    expect(countMermaidFences(md)).toBe(2);
  });
});

describe('static site paths', () => {
  const dist = fs.mkdtempSync(path.join(os.tmpdir(), 'wizz-dist-'));
  fs.mkdirSync(path.join(dist, 'labs'));
  for (const f of ['index.html', 'labs/index.html', 'labs/03-epoll.html', 'favicon.ico']) fs.writeFileSync(path.join(dist, f), 'x');
  it('resolves clean URLs the way VitePress builds them', () => {
    expect(resolveFile(dist, '/', '/')).toBe(path.join(dist, 'index.html'));
    expect(resolveFile(dist, '/', '/labs/')).toBe(path.join(dist, 'labs/index.html'));
    expect(resolveFile(dist, '/', '/labs/03-epoll#step-2')).toBe(path.join(dist, 'labs/03-epoll.html'));
    expect(resolveFile(dist, '/', '/labs/03-epoll.html')).toBe(path.join(dist, 'labs/03-epoll.html'));
    expect(resolveFile(dist, '/', '/favicon.ico')).toBe(path.join(dist, 'favicon.ico'));
    expect(resolveFile(dist, '/', '/labs/04-kqueue')).toBeNull();
    expect(resolveFile(dist, '/', '/../etc/passwd')).toBeNull();
    expect(resolveFile(dist, '/wizz/', '/wizz/labs/')).toBe(path.join(dist, 'labs/index.html'));
  });
  it('maps built files to page URLs', () => {
    expect(pageUrlPath('index.html', '/')).toBe('/');
    expect(pageUrlPath('labs/index.html', '/')).toBe('/labs/');
    expect(pageUrlPath('labs/03-epoll.html', '/wizz/')).toBe('/wizz/labs/03-epoll');
  });
});
