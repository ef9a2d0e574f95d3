// `npm run docs:test [-- --build|--no-build] [--shots] [--page SUBSTR] [--summary FILE]`
// Opens every built page of the docs in headless Chromium and fails on: console or page errors,
// a ```mermaid fence that did not become an SVG (or became mermaid's "Syntax error" SVG), an
// internal link to no built page, a paragraph broken apart (text or an inline component like
// <Cost …/> outside any paragraph), local search not finding "epoll", and a wake-up visualisation
// whose sliders do not move its counters. One line per page, then totals.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseFlags } from '../server/util/cli.ts';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { REPORTS, ROOT } from './lib/paths.ts';
import { detectBase, listPages, pageUrlPath, resolveFile, serve } from './lib/static-server.ts';
import { countMermaidFences } from './lib/markdown.ts';
import { writeSummary } from './lib/summary.ts';
import { c } from './lib/color.ts';

const USAGE = `usage: npm run docs:test [-- --build|--no-build] [--shots] [--page SUBSTR] [--summary FILE]
  every built page of the docs in headless Chromium: errors, diagrams, links, search, widgets
  --build / --no-build   always build the site first / never (default: build when a page is newer than the build)
  --shots                screenshots of every page in reports/
  --page SUBSTR          only the pages whose path contains SUBSTR
  --summary FILE         write the counts for npm run check`;
const values = parseFlags(
  {
    build: { type: 'boolean' },
    'no-build': { type: 'boolean' },
    shots: { type: 'boolean' },
    page: { type: 'string' },
    summary: { type: 'string' },
  },
  USAGE,
);

const DOCS = path.join(ROOT, 'docs');
const DIST = path.join(DOCS, '.vitepress', 'dist');
const CHROMIUM = process.env.WIZZ_CHROMIUM ?? '/usr/bin/chromium';
const SEARCH_TERM = 'epoll';

let passed = 0;
let failed = 0;
function done(): never {
  console.log(`\ndocs browser test: ${passed} passed, ${failed} failed`);
  writeSummary(values.summary, { passed, failed });
  process.exit(failed ? 1 : 0);
}

function newestMtime(dir: string, skip: (p: string) => boolean): number {
  let newest = 0;
  for (const f of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const abs = path.join(dir, f);
    if (skip(abs)) continue;
    newest = Math.max(newest, fs.statSync(abs).mtimeMs);
  }
  return newest;
}

/** A build is fresh when dist/index.html is newer than every docs source (dist and cache aside). */
function buildIsFresh(): boolean {
  const index = path.join(DIST, 'index.html');
  if (!fs.existsSync(index)) return false;
  const skip = (p: string) => p.startsWith(DIST) || p.startsWith(path.join(DOCS, '.vitepress', 'cache')) || p.includes('node_modules');
  return fs.statSync(index).mtimeMs > newestMtime(DOCS, skip);
}

if (values.build || (!values['no-build'] && !buildIsFresh())) {
  console.log(c.dim('building the docs (vitepress build docs)…'));
  const r = spawnSync(path.join(ROOT, 'node_modules/.bin/vitepress'), ['build', 'docs'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) {
    console.log(c.red('✗ the docs build failed; nothing to test'));
    failed++;
    done();
  }
}
if (!fs.existsSync(path.join(DIST, 'index.html'))) {
  console.log(c.red(`✗ no built site at ${path.relative(ROOT, DIST)} (run npm run docs:build)`));
  failed++;
  done();
}
if (!fs.existsSync(CHROMIUM)) {
  console.log(c.red(`✗ no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set WIZZ_CHROMIUM)`));
  failed++;
  done();
}

const base = detectBase(DIST);
const pages = listPages(DIST).filter((p) => !values.page || p.includes(values.page));
const server = await serve(DIST, base);
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wizz-chromium-'));
let context: BrowserContext | undefined;

const cleanup = async () => {
  await context?.close().catch(() => {});
  await server.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
};
process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}

async function checkPage(page: Page, rel: string): Promise<{ checks: Check[]; info: string[] }> {
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  const checks: Check[] = [];
  const info: string[] = [];
  const url = server.url + pageUrlPath(rel, base);
  const resp = await page.goto(url, { waitUntil: 'networkidle', timeout: 30_000 });
  checks.push({ name: 'loads', ok: !!resp && resp.ok(), detail: `HTTP ${resp?.status()}` });

  // Mermaid: every fence in the source must become an SVG, and none may be the error SVG.
  const md = path.join(DOCS, rel.replace(/\.html$/, '.md'));
  const fences = fs.existsSync(md) ? countMermaidFences(fs.readFileSync(md, 'utf8')) : 0;
  // Diagrams that rendered: containers holding an SVG that is not mermaid's error picture.
  const countSvgs = () =>
    page.evaluate(() => [...document.querySelectorAll('.mermaid')].filter((d) => d.querySelector('svg') && !(d.textContent ?? '').includes('Syntax error in text')).length);
  if (fences > 0) {
    // Wait for the good end state (every diagram an SVG, none the error picture): under load the
    // plugin renders late and may pass through an error picture on the way. A real syntax error
    // never reaches this state, so it is judged after the timeout.
    await page
      .waitForFunction(
        (n) => {
          const boxes = [...document.querySelectorAll('.mermaid')];
          const bad = boxes.some((d) => (d.textContent ?? '').includes('Syntax error in text'));
          return !bad && boxes.filter((d) => d.querySelector('svg')).length >= n;
        },
        fences,
        { timeout: 30_000, polling: 250 },
      )
      .catch(() => {});
  }
  // The plugin re-renders diagrams when <html>'s attributes change (theme switches) and may pass
  // through a transient state; judge the page once its DOM has been quiet for a moment.
  await page
    .evaluate(
      () =>
        new Promise<void>((resolve) => {
          let t = setTimeout(done, 600);
          const mo = new MutationObserver(() => {
            clearTimeout(t);
            t = setTimeout(done, 600);
          });
          function done() {
            mo.disconnect();
            resolve();
          }
          mo.observe(document.body, { subtree: true, childList: true, attributes: true });
          setTimeout(done, 5000);
        }),
    )
    .catch(() => {});
  const svgs = await countSvgs();
  // Only an error SVG inside a diagram's container counts: under load, the plugin's overlapping
  // re-renders can leave an invisible error SVG in mermaid's scratch <div> while the diagram itself
  // renders fine (seen, and screenshot-checked). A real syntax error lands in the container and
  // also logs a console error.
  const errorSvgs = await page.evaluate(() =>
    [...document.querySelectorAll('.mermaid svg')]
      .filter((s) => (s.textContent ?? '').includes('Syntax error in text'))
      .map((s) => `#${s.id || '?'}`),
  );
  const syntaxErrors = errorSvgs.length;
  if (fences > 0 || svgs > 0 || syntaxErrors > 0) {
    const ok = svgs >= fences && syntaxErrors === 0;
    checks.push({ name: 'mermaid', ok, detail: syntaxErrors ? `${syntaxErrors} diagram(s) show mermaid's "Syntax error in text" (${errorSvgs.join(', ')}); ${svgs} of ${fences} rendered` : `${svgs} of ${fences} diagrams rendered` });
    info.push(`${fences} diagram${fences === 1 ? '' : 's'}`);
  }

  // Inline components (<Cost …/>) and text must sit inside a paragraph: a markdown container that
  // holds bare text or an inline element next to its blocks means a paragraph fell apart (a line
  // that starts with a component was taken for the start of an HTML block).
  const fragments = await page.evaluate(() => {
    const INLINE = new Set(['SPAN', 'A', 'CODE', 'EM', 'STRONG', 'B', 'I', 'SMALL', 'SUB', 'SUP', 'KBD', 'MARK', 'BR']);
    const found: string[] = [];
    for (const box of document.querySelectorAll('.vp-doc > div, .vp-doc .custom-block, .vp-doc blockquote')) {
      for (const n of box.childNodes) {
        const stray = n.nodeType === Node.TEXT_NODE ? (n.textContent ?? '').trim() !== '' : n.nodeType === Node.ELEMENT_NODE && INLINE.has((n as Element).tagName);
        if (stray) found.push(JSON.stringify((n.textContent ?? '').trim().slice(0, 50)));
      }
    }
    return found;
  });
  checks.push({ name: 'paragraphs whole', ok: fragments.length === 0, detail: `text or inline components outside any paragraph: ${fragments.slice(0, 5).join(', ')}` });

  // Internal links must land on a built page (or file).
  const links = await page.evaluate(() => [...document.querySelectorAll('a[href]')].map((a) => ({ href: a.getAttribute('href')!, abs: (a as HTMLAnchorElement).href })));
  const dead: string[] = [];
  let internal = 0;
  for (const l of links) {
    let u: URL;
    try {
      u = new URL(l.abs);
    } catch {
      continue;
    }
    if (u.origin !== server.url || l.href.startsWith('#')) continue;
    internal++;
    if (!resolveFile(DIST, base, u.pathname)) dead.push(l.href);
  }
  checks.push({ name: 'links', ok: dead.length === 0, detail: `dead: ${[...new Set(dead)].join(', ')}` });
  info.push(`${internal} links`);

  // The wake-up visualisation, when the page has it: a slider must move the counters.
  if ((await page.locator('[data-testid="wakeup-viz"]').count()) > 0) {
    const viz = page.locator('[data-testid="wakeup-viz"]').first();
    const counters = () => viz.locator('[data-testid="counted-work"]').allTextContents().then((t) => t.join(' | '));
    const sliders = viz.locator('input[type=range]');
    const n = await sliders.count();
    const moved: number[] = [];
    for (let i = 0; i < n; i++) {
      const before = await counters();
      const s = sliders.nth(i);
      await s.focus();
      await page.keyboard.press('End');
      await page.waitForTimeout(150);
      if ((await counters()) === before) {
        await page.keyboard.press('Home');
        await page.waitForTimeout(150);
      }
      if ((await counters()) !== before) moved.push(i);
    }
    const nCounters = await viz.locator('[data-testid="counted-work"]').count();
    checks.push({
      name: 'visualisation',
      ok: nCounters > 0 && moved.length > 0,
      detail: nCounters === 0 ? 'no [data-testid=counted-work] counter' : n === 0 ? 'no input[type=range] slider' : 'moving the sliders did not change the counters',
    });
    info.push(`viz: ${moved.length}/${n} sliders move the counters`);
  }

  checks.push({ name: 'no console errors', ok: errors.length === 0, detail: errors.slice(0, 5).join('\n') });
  return { checks, info };
}

async function checkSearch(page: Page): Promise<Check> {
  await page.goto(server.url + base, { waitUntil: 'networkidle' });
  await page.keyboard.press('/');
  const input = page.locator('#localsearch-input');
  if (!(await input.isVisible({ timeout: 3000 }).catch(() => false))) {
    await page.locator('.VPNavBarSearch button').first().click({ timeout: 5000 }).catch(() => {});
  }
  if (!(await input.isVisible({ timeout: 5000 }).catch(() => false))) return { name: 'search', ok: false, detail: 'the local search box did not open (themeConfig.search.provider = "local"?)' };
  await input.fill(SEARCH_TERM);
  const found = await page.locator('.VPLocalSearchBox .results .result').first().waitFor({ timeout: 10_000 }).then(() => true, () => false);
  const n = found ? await page.locator('.VPLocalSearchBox .results .result').count() : 0;
  return { name: 'search', ok: found, detail: found ? `${n} results for "${SEARCH_TERM}"` : `no result for "${SEARCH_TERM}"` };
}

function shotPath(rel: string): string {
  return path.join(REPORTS, 'screenshots', rel.replace(/\.html$/, '').replace(/\//g, '_') + '.png');
}

try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  console.log(c.dim(`${pages.length} pages at ${server.url}${base}`));
  for (const rel of pages) {
    let page = await context.newPage();
    let checks: Check[] = [];
    let info: string[] = [];
    const attempt = async () => {
      try {
        ({ checks, info } = await checkPage(page, rel));
      } catch (e) {
        checks = [{ name: 'opens', ok: false, detail: (e as Error).message.split('\n')[0] }];
      }
    };
    await attempt();
    // On a loaded machine the mermaid plugin's overlapping re-renders can leave a diagram empty or
    // showing the error picture, with no console error. A real syntax error logs one and fails
    // every time, so a mermaid-only failure gets one fresh load before it counts.
    if (checks.some((k) => !k.ok) && checks.every((k) => k.ok || k.name === 'mermaid')) {
      await page.close();
      page = await context.newPage();
      await attempt();
      if (checks.every((k) => k.ok)) info.push('mermaid passed on a second load');
    }
    const bad = checks.filter((k) => !k.ok);
    passed += checks.length - bad.length;
    failed += bad.length;
    const label = pageUrlPath(rel, base);
    console.log(`${bad.length ? c.red('✗') : c.green('✓')} ${label} ${c.dim(`(${info.join(', ')})`)}`);
    for (const k of bad) console.log(`    ${c.red(k.name)}: ${(k.detail ?? '').split('\n').join('\n      ')}`);
    if (bad.length || values.shots) {
      fs.mkdirSync(path.join(REPORTS, 'screenshots'), { recursive: true });
      await page.screenshot({ path: shotPath(rel), fullPage: true }).catch(() => {});
      if (bad.length) console.log(c.dim(`    screenshot: ${path.relative(ROOT, shotPath(rel))}`));
    }
    await page.close();
  }
  if (!values.page) {
    const page = await context.newPage();
    const s = await checkSearch(page).catch((e: Error) => ({ name: 'search', ok: false, detail: e.message.split('\n')[0] }));
    console.log(`${s.ok ? c.green('✓') : c.red('✗')} local search: ${s.detail}`);
    if (s.ok) passed++;
    else failed++;
    await page.close();
  }
} catch (e) {
  console.log(c.red(`✗ the browser test crashed: ${(e as Error).message}`));
  failed++;
} finally {
  await cleanup();
}
done();
