// The wizz site. Sidebar entries for labs come from labs/stages.json and for the kernel reference
// from the files present in docs/reference/kernel/, so nobody edits this file to add a page.
import fs from 'node:fs';
import path from 'node:path';
import { defineConfig, type DefaultTheme } from 'vitepress';
import { withMermaid } from 'vitepress-plugin-mermaid';
import { generateLabPages } from './gen-lab-pages.ts';
import { wizzMarkdown } from './markdown.ts';
import { inlineComponentTags } from './inline-components.ts';
import { docExists, docsDir, markdownTitle, readStages } from './repo.ts';

generateLabPages();

/** A sidebar item for docs/<rel>.md, or nothing when the page does not exist (yet). */
function item(rel: string, text?: string): DefaultTheme.SidebarItem[] {
  if (!docExists(`${rel}.md`)) return [];
  return [{ text: text ?? markdownTitle(path.join(docsDir, `${rel}.md`), rel), link: `/${rel.replace(/(^|\/)index$/, '$1')}` }];
}

function labItems(): DefaultTheme.SidebarItem[] {
  return readStages().flatMap((s) => item(`labs/${s.id}`, `${s.id.slice(0, 2)} · ${s.title}`));
}

function kernelItems(): DefaultTheme.SidebarItem[] {
  const dir = path.join(docsDir, 'reference/kernel');
  if (!fs.existsSync(dir)) return [];
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.md')).sort((a, b) => {
    if (a === 'index.md') return -1;
    if (b === 'index.md') return 1;
    return a.localeCompare(b);
  });
  return files.flatMap((f) => item(`reference/kernel/${f.slice(0, -3)}`));
}

/** The nav's Reference entry points at the first reference page that exists. */
function referenceNav(): DefaultTheme.NavItem[] {
  const first = [...item('reference/protocol'), ...kernelItems()][0];
  return first?.link ? [{ text: 'Reference', link: first.link, activeMatch: '^/reference/' }] : [];
}

function sidebar(): DefaultTheme.SidebarItem[] {
  const groups: DefaultTheme.SidebarItem[] = [
    {
      text: 'Chapters',
      items: [
        ...item('chapters/01-anatomy', '1 · Anatomy of a select() server'),
        ...item('chapters/02-pollers', '2 · select, poll, epoll, kqueue'),
        ...item('chapters/03-pools', '3 · Heap allocations and pooling'),
        ...item('chapters/04-measure', '4 · Measure it yourself'),
      ],
    },
    {
      text: 'Q&A with the mentor',
      items: [
        ...item('qa/threads-without-mutexes', 'Threads without mutexes?'),
        ...item('qa/profile-before-you-pool', 'A pool for everything?'),
        ...item('qa/database-actor', 'Where does the database go?'),
      ],
    },
    { text: 'Labs', items: [...item('labs/index', 'The path'), ...labItems(), ...item('labs/debugging-hangs', 'Debugging a hang')] },
    { text: 'Reference server', items: [...item('server/index', 'Piece by piece'), ...item('server/files', 'File map'), ...item('server/guarantees', 'Guarantees'), ...item('server/performance', 'Performance'), ...item('server/cluster', 'Beyond one machine')] },
    { text: 'Reference', items: [...item('reference/protocol', 'Wire protocol'), ...kernelItems(), ...item('reference/graders', 'How strong are the graders')] },
  ];
  return groups.filter((g) => (g.items?.length ?? 0) > 0);
}

const config = withMermaid(
  defineConfig({
    title: 'wizz',
    description: 'A mentorship workbook for scalable server design in TypeScript: from a select() loop to epoll, pools, lock-free rings and a database actor.',
    lang: 'en-GB',
    cleanUrls: true,
    lastUpdated: false,
    head: [
      ['link', { rel: 'icon', href: '/favicon.ico', sizes: '32x32' }],
      ['link', { rel: 'icon', href: '/favicon.svg', type: 'image/svg+xml' }],
    ],
    markdown: {
      config: (md) => wizzMarkdown(md),
      // <Cost …/> and other inline components stay inside their sentence even at a line's start.
      component: { inlineTags: inlineComponentTags() },
    },
    themeConfig: {
      logo: '/favicon.svg',
      search: { provider: 'local' },
      nav: [
        { text: 'Chapters', link: '/chapters/01-anatomy', activeMatch: '^/(chapters|qa)/' },
        { text: 'Labs', link: '/labs/', activeMatch: '^/labs/' },
        { text: 'Server', link: '/server/', activeMatch: '^/server/' },
        ...referenceNav(),
      ],
      sidebar: sidebar(),
      outline: { level: [2, 3] },
      footer: { message: 'wizz — a mentorship workbook. Every number on this site is computed from the cost model or measured by a script you can run.' },
    },
    // Sequence diagrams are scaled down to the text column: long messages made them so wide that their
    // text ended up tiny. Wrapped messages and narrower actors keep them near their natural size.
    mermaid: {
      sequence: { wrap: true, width: 125, actorMargin: 20, boxMargin: 8, messageFontSize: 15, noteFontSize: 14, actorFontSize: 15, mirrorActors: false },
    },
    vite: {
      // vitepress dev + mermaid 11: without this no diagram renders ("fastdom.js does not provide an export named 'default'").
      optimizeDeps: { include: ['mermaid'] },
      server: { fs: { allow: [path.resolve(docsDir, '..')] } },
    },
  }),
);

// vitepress-plugin-mermaid pre-bundles a fixed list made for older mermaid versions, with "debug",
// which mermaid 11 no longer uses; a clone where nothing else installs "debug" gets
// "Failed to resolve dependency: debug, present in optimizeDeps.include" on every `npm run docs`.
// Keep the entries that are installed.
const optimize = config.vite?.optimizeDeps;
if (optimize?.include) optimize.include = optimize.include.filter((dep) => fs.existsSync(path.join(docsDir, '..', 'node_modules', dep, 'package.json')));

export default config;
