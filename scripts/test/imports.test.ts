// The imports grader (labs/kit/imports.ts): what counts as an import, and what a stage's list allows.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { explainViolations, importSites, importViolations, isAllowed } from '../../labs/kit/imports.ts';
import { loadManifest } from '../lib/stages.ts';
import { verdictPasses } from '../lib/verdict.ts';

const sites = (text: string) => importSites(ts, '/x/stage/a.ts', text).map((s) => [s.kind, s.specifier]);

describe('importSites', () => {
  it('finds every way a module can be loaded', () => {
    const text = [
      "import { a } from '#kernel/index.ts';",
      "import type { T } from './types.ts';",
      "export * from '#server/protocol/frame.ts';",
      "export { b } from './b.ts';",
      "const m = await import('node:fs');",
      "const w = new URL('./worker.ts', import.meta.url);",
      "const s = await import(new URL('./store.ts', import.meta.url).href);",
      "const r = require('better-sqlite3');",
      "import x = require('node:path');",
      "type F = typeof import('../../solutions/00-packets/frames.ts');",
      "const text = \"import { no } from 'not-an-import'\"; // a string, not an import",
    ].join('\n');
    expect(sites(text)).toEqual([
      ['import', '#kernel/index.ts'],
      ['import', './types.ts'],
      ['export', '#server/protocol/frame.ts'],
      ['export', './b.ts'],
      ['dynamic import', 'node:fs'],
      ['worker URL', './worker.ts'],
      ['dynamic import', './store.ts'],
      ['require', 'better-sqlite3'],
      ['require', 'node:path'],
      ['type import', '../../solutions/00-packets/frames.ts'],
    ]);
  });
  it('reports a computed module as unknown (null), so it cannot slip through', () => {
    expect(sites("const name = '#server/' + 'protocol/frame.ts';\nawait import(name);")).toEqual([['dynamic import', null]]);
  });
  it('gives line numbers', () => {
    expect(importSites(ts, 'a.ts', "\n\nimport x from 'y';").map((s) => s.line)).toEqual([3]);
  });
});

describe('isAllowed', () => {
  const stage = '/w/labs/00-packets';
  const file = `${stage}/frames.ts`;
  const io = ['#kernel/*', '#kit/*', '#server/protocol/frame.ts', 'node:*', './*'];
  it('allows built-ins, own files, listed prefixes and exact modules', () => {
    expect(isAllowed('node:fs', file, stage, ['node:*'])).toBe(true);
    expect(isAllowed('fs', file, stage, ['node:*'])).toBe(true);
    expect(isAllowed('./helpers/x.ts', file, stage, ['./*'])).toBe(true);
    expect(isAllowed('#kernel/index.ts', file, stage, io)).toBe(true);
    expect(isAllowed('#server/protocol/frame.ts', file, stage, io)).toBe(true);
  });
  it('rejects the rest: the server module that does the job, solutions/, another stage, escapes', () => {
    expect(isAllowed('#server/protocol/frame.ts', file, stage, ['node:*', './*'])).toBe(false);
    expect(isAllowed('#server/reactor/reactor.ts', file, stage, io)).toBe(false);
    expect(isAllowed('../../solutions/00-packets/frames.ts', file, stage, io)).toBe(false);
    expect(isAllowed('../01-select/server.ts', file, stage, io)).toBe(false);
    expect(isAllowed('#kernel/../../server/protocol/frame.ts', file, stage, io)).toBe(false);
    expect(isAllowed('#stage/00-packets/frames.ts', file, stage, io)).toBe(false);
    expect(isAllowed('better-sqlite3', file, stage, io)).toBe(false);
    expect(isAllowed('node:fs', file, stage, ['./*'])).toBe(false);
  });
});

describe('importViolations', () => {
  it("checks the stage's own files, not its graders, and explains plainly", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wizz-imp-'));
    fs.writeFileSync(path.join(dir, 'frames.ts'), "export { FrameDecoder } from '#server/protocol/frame.ts';\nimport fs from 'node:fs';\n");
    fs.writeFileSync(path.join(dir, 'frames.test.ts'), "import * as ref from '#server/protocol/frame.ts';\n");
    const allowed = ['node:*', './*'];
    const v = await importViolations(dir, allowed);
    expect(v).toEqual([{ file: 'frames.ts', line: 1, specifier: '#server/protocol/frame.ts', kind: 'export' }]);
    const message = explainViolations('00-packets', v, allowed);
    expect(message).toContain('frames.ts:1 re-exports "#server/protocol/frame.ts"');
    expect(message).toContain("the reference server's code does this stage's job");
    expect(message).toContain('may import only: Node built-ins (node:…), the stage\'s own files (./…)');
  });
});

describe('labs/stages.json "imports"', () => {
  const manifest = loadManifest();
  it('every stage has a list, and stage 00 may not import the frame codec it is asked to write', () => {
    for (const s of manifest) expect(Array.isArray(s.imports), s.id).toBe(true);
    expect(manifest.find((s) => s.id === '00-packets')!.imports).not.toContain('#server/protocol/frame.ts');
  });
  it("each stage's solution and starter pass their own list", async () => {
    const root = path.resolve(import.meta.dirname, '..', '..');
    for (const s of manifest) {
      for (const base of ['labs', 'solutions']) {
        const dir = path.join(root, base, s.id);
        if (fs.existsSync(dir)) expect(await importViolations(dir, s.imports), `${base}/${s.id}`).toEqual([]);
      }
    }
  });
});

describe('verdicts', () => {
  it('a patch that does not apply or compile fails the honesty check; it is never caught', () => {
    expect(verdictPasses('does not apply')).toBe(false);
    expect(verdictPasses('does not compile')).toBe(false);
    expect(verdictPasses('does not load')).toBe(false);
    expect(verdictPasses('caught')).toBe(true);
  });
});
