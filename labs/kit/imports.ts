// A stage's code may not import what solves it. Each stage lists in labs/stages.json ("imports")
// the modules its own files may import; every other import — the reference server's module that
// does the stage's job, solutions/, another stage — fails the stage's `imports` grader with a plain
// message. Imports are read with the TypeScript parser (static and dynamic imports, re-exports,
// require(), `new URL('./x.ts', import.meta.url)` worker entries), not with regular expressions.
//
// Loading the TypeScript compiler costs about a second, so what a file imports is cached by its
// content's hash under .wizz/imports-cache/: an unchanged file is never parsed twice.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { isBuiltin } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MANIFEST = path.join(ROOT, 'labs', 'stages.json');
const CACHE_DIR = path.join(ROOT, '.wizz', 'imports-cache');
/** Bump when importSites() changes what it reports, so old cache entries are not trusted. */
const CACHE_VERSION = 2;

export interface ImportSite {
  line: number;
  /** The module as written; null when it is computed at run time and cannot be checked. */
  specifier: string | null;
  kind: 'import' | 'export' | 'dynamic import' | 'require' | 'worker URL' | 'type import';
}

type TS = typeof import('typescript');

/** Every module a source text imports, in order. */
export function importSites(ts: TS, fileName: string, text: string): ImportSite[] {
  const sf = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const sites: ImportSite[] = [];
  const add = (node: import('typescript').Node, specifier: string | null, kind: ImportSite['kind']) =>
    sites.push({ line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1, specifier, kind });
  const literal = (e: import('typescript').Expression | undefined): string | null =>
    e && (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) ? e.text : null;
  const isImportMetaUrl = (e: import('typescript').Expression | undefined) =>
    !!e && ts.isPropertyAccessExpression(e) && e.name.text === 'url' && ts.isMetaProperty(e.expression) && e.expression.keywordToken === ts.SyntaxKind.ImportKeyword;
  /** `new URL('./x.ts', import.meta.url)`, or its `.href`: the module './x.ts'. */
  const urlModule = (e: import('typescript').Expression): string | null => {
    if (ts.isPropertyAccessExpression(e) && e.name.text === 'href') return urlModule(e.expression);
    if (ts.isNewExpression(e) && ts.isIdentifier(e.expression) && e.expression.text === 'URL' && isImportMetaUrl(e.arguments?.[1])) return literal(e.arguments?.[0]);
    return null;
  };
  const consumed = new Set<import('typescript').Node>(); // a `new URL(…)` already read as a dynamic import's module
  const visit = (node: import('typescript').Node): void => {
    if (ts.isImportDeclaration(node)) add(node, literal(node.moduleSpecifier), 'import');
    else if (ts.isExportDeclaration(node) && node.moduleSpecifier) add(node, literal(node.moduleSpecifier), 'export');
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node, literal(node.moduleReference.expression), 'require');
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node, literal(node.argument.literal as import('typescript').Expression), 'type import');
    else if (ts.isCallExpression(node)) {
      const arg = node.arguments[0];
      if (node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        add(node, literal(arg) ?? (arg ? urlModule(arg) : null), 'dynamic import');
        if (arg && urlModule(arg) !== null) consumed.add(ts.isPropertyAccessExpression(arg) ? arg.expression : arg);
      }
      else if (ts.isIdentifier(node.expression) && node.expression.text === 'require') add(node, literal(arg), 'require');
    } else if (ts.isNewExpression(node) && !consumed.has(node) && urlModule(node) !== null) add(node, urlModule(node), 'worker URL');
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return sites;
}

/** Whether `specifier`, written in `file`, is one of the `allowed` patterns of the stage in `stageDir`. */
export function isAllowed(specifier: string, file: string, stageDir: string, allowed: string[]): boolean {
  const relative = specifier.startsWith('./') || specifier.startsWith('../');
  if (!relative && specifier.split('/').some((s) => s === '..' || s === '.')) return false; // "#kernel/../../server/x.ts"
  return allowed.some((pattern) => {
    if (pattern === 'node:*') return !relative && isBuiltin(specifier);
    if (pattern === './*') {
      if (!relative) return false;
      const target = path.resolve(path.dirname(file), specifier);
      return target.startsWith(stageDir + path.sep);
    }
    if (pattern.endsWith('*')) return !relative && specifier.startsWith(pattern.slice(0, -1));
    return specifier === pattern;
  });
}

/** What the patterns mean, for messages. */
export function describePattern(pattern: string): string {
  if (pattern === 'node:*') return 'Node built-ins (node:…)';
  if (pattern === './*') return "the stage's own files (./…)";
  return pattern;
}

export interface ImportViolation {
  /** Path relative to the stage folder. */
  file: string;
  line: number;
  specifier: string | null;
  kind: ImportSite['kind'];
}

/** The stage's own source files: everything but its graders, README and non-code files. */
export function stageSources(stageDir: string): string[] {
  if (!fs.existsSync(stageDir)) return [];
  return (fs.readdirSync(stageDir, { recursive: true }) as string[])
    .filter((f) => /\.(c|m)?[jt]sx?$/.test(f) && !/\.test\.[cm]?[jt]sx?$/.test(f) && !f.split(path.sep).includes('node_modules'))
    .sort();
}

/** The imports of the stage's own files that its list does not allow. */
export async function importViolations(stageDir: string, allowed: string[]): Promise<ImportViolation[]> {
  const out: ImportViolation[] = [];
  let ts: TS | null = null;
  for (const rel of stageSources(stageDir)) {
    const file = path.join(stageDir, rel);
    const text = fs.readFileSync(file, 'utf8');
    let sites = readCache(text);
    if (!sites) {
      ts ??= (await import('typescript')).default;
      sites = importSites(ts, file, text);
      writeCache(text, sites);
    }
    for (const s of sites) {
      if (s.specifier === null || !isAllowed(s.specifier, file, stageDir, allowed)) out.push({ file: rel.split(path.sep).join('/'), line: s.line, specifier: s.specifier, kind: s.kind });
    }
  }
  return out;
}

/** The stage's "imports" list from labs/stages.json. */
export function allowedImports(stage: string, manifest = MANIFEST): string[] {
  const raw = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { stages?: Array<{ id: string; imports?: unknown }> };
  const entry = raw.stages?.find((s) => s.id === stage);
  if (!entry) throw new Error(`stage ${stage} is not listed in labs/stages.json`);
  if (!Array.isArray(entry.imports) || !entry.imports.every((p) => typeof p === 'string')) throw new Error(`stage ${stage} has no "imports" list in labs/stages.json`);
  return entry.imports as string[];
}

/** The learner-facing explanation of the violations (empty string when there are none). */
export function explainViolations(stage: string, violations: ImportViolation[], allowed: string[]): string {
  if (violations.length === 0) return '';
  const lines = violations.map((v) =>
    v.specifier === null
      ? `  ${v.file}:${v.line} computes the module it loads (${v.kind}); write it as a plain string so it can be checked`
      : `  ${v.file}:${v.line} ${v.kind === 'export' ? 're-exports' : 'imports'} "${v.specifier}"${whyNot(v.specifier)}`,
  );
  return [
    `Stage ${stage.slice(0, 2)}'s code imports what it may not:`,
    ...lines,
    `This stage's files may import only: ${allowed.map(describePattern).join(', ')}.`,
    'The point of the stage is to write that part yourself; an import of code that already does it passes nothing.',
  ].join('\n');
}

function whyNot(specifier: string): string {
  if (/(^|\/)solutions\//.test(specifier)) return ' — the reference solutions are not yours to import';
  if (specifier.startsWith('#server/')) return " — the reference server's code does this stage's job";
  if (specifier.startsWith('../')) return ' — outside the stage folder';
  if (specifier.startsWith('#stage/')) return ' — that is how graders reach your code, not how your code reaches others';
  return '';
}

/** The folder the graders are grading: WIZZ_TARGET, as vitest.config.ts reads it. */
export function targetStageDir(stage: string): string {
  const target = process.env.WIZZ_TARGET ?? 'labs';
  return path.join(path.isAbsolute(target) ? target : path.join(ROOT, target), stage);
}

function cacheFile(text: string): string {
  return path.join(CACHE_DIR, `${createHash('sha256').update(`v${CACHE_VERSION}\0${text}`).digest('hex')}.json`);
}

function readCache(text: string): ImportSite[] | null {
  try {
    return JSON.parse(fs.readFileSync(cacheFile(text), 'utf8')) as ImportSite[];
  } catch {
    return null;
  }
}

function writeCache(text: string, sites: ImportSite[]): void {
  try {
    fs.mkdirSync(CACHE_DIR, { recursive: true });
    const file = cacheFile(text);
    const tmp = `${file}.${process.pid}.tmp`; // several graders may write the same entry at once
    fs.writeFileSync(tmp, JSON.stringify(sites));
    fs.renameSync(tmp, file);
  } catch {
    /* a cache that cannot be written only costs time */
  }
}

/** Parses every file of `stageDirs` that is not cached yet, with one load of the compiler. */
export async function warmImportsCache(stageDirs: string[]): Promise<number> {
  let ts: TS | null = null;
  let parsed = 0;
  for (const dir of stageDirs) {
    for (const rel of stageSources(dir)) {
      const file = path.join(dir, rel);
      const text = fs.readFileSync(file, 'utf8');
      if (readCache(text)) continue;
      ts ??= (await import('typescript')).default;
      writeCache(text, importSites(ts, file, text));
      parsed++;
    }
  }
  return parsed;
}

/** A stage file imports something its list does not allow. */
export class ForbiddenImport extends Error {
  override name = 'ForbiddenImport';
}

/** The grader: throws ForbiddenImport naming each import the stage's list does not allow. */
export async function checkImports(stage: string): Promise<void> {
  const allowed = allowedImports(stage);
  const dir = targetStageDir(stage);
  if (stageSources(dir).length === 0) throw new Error(`no source files found in ${dir}`);
  const message = explainViolations(stage, await importViolations(dir, allowed), allowed);
  if (message) throw new ForbiddenImport(message);
}
