// markdown-it rules for the wizz site, added by config.ts:
//  1. labLinks: lab pages include labs/NN-name/README.md, whose links are written to work on GitHub
//     (relative to the README). On the site they are rewritten: ../../docs/x.md → /x, another lab's
//     README → its lab page, any other repository file → plain text naming the file.
//  2. pendingLinks: a link to a page another engineer owns that does not exist yet is rendered as
//     text marked "not written yet" instead of failing the build; it becomes a link once the page lands.
//  3. costModel: inside ```mermaid fences, @cost(mechanism,total,active,field) is replaced with the
//     number labs/kernel/cost-model.ts computes, so diagrams never carry hand-typed numbers.
//  4. inline code gets v-pre, so `{{ x }}` in a README is shown, not evaluated by Vue.
import fs from 'node:fs';
import path from 'node:path';
import type { MarkdownRenderer } from 'vitepress';
import { wakeupCost, type Mechanism, type CallCost } from '../../labs/kernel/cost-model.ts';
import { docsDir, repoDir } from './repo.ts';

type Token = ReturnType<MarkdownRenderer['parse']>[number];
interface Env {
  relativePath?: string;
}

const SCHEME = /^[a-z][a-z0-9+.-]*:/i;

/** Pages others write; a missing one becomes a "not written yet" label instead of a dead link. */
const PENDING = [/^reference\/protocol$/, /^reference\/kernel\/[^/]+$/, /^reference\/kernel\/index$/, /^server\/files$/, /^labs\/\d\d-[\w-]+$/];

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Turns link_open … link_close (starting at children[i]) into a span; returns nothing. */
function unlink(children: Token[], i: number, cls: string, title: string, suffix = ''): void {
  const open = children[i]!;
  open.type = 'html_inline';
  open.tag = '';
  open.content = `<span class="${cls}" title="${escapeHtml(title)}">`;
  for (let j = i + 1; j < children.length; j++) {
    const t = children[j]!;
    if (t.type === 'link_close') {
      t.type = 'html_inline';
      t.tag = '';
      t.content = `${suffix}</span>`;
      return;
    }
  }
}

function splitHref(href: string): { pathPart: string; rest: string } {
  const m = /^([^?#]*)(.*)$/.exec(href)!;
  return { pathPart: m[1]!, rest: m[2]! };
}

/** docs-relative page id ('chapters/02-pollers') for a site path or .md path, or null when not a page link. */
function pageId(resolved: string): string | null {
  let p = resolved.replace(/^\//, '');
  if (p === '' || p.endsWith('/')) p += 'index';
  if (p.endsWith('.html')) p = p.slice(0, -5);
  if (p.endsWith('.md')) p = p.slice(0, -3);
  if (/\.[a-z0-9]+$/i.test(p)) return null; // a file, not a page
  return p;
}

function pageFileExists(id: string): boolean {
  return fs.existsSync(path.join(docsDir, `${id}.md`));
}

export function wizzMarkdown(md: MarkdownRenderer): void {
  md.core.ruler.push('wizz_links', (state) => {
    const env = state.env as Env;
    const rel = env.relativePath ?? '';
    const lab = /^labs\/(\d\d-[\w-]+)\.md$/.exec(rel);
    for (const block of state.tokens) {
      if (block.type !== 'inline' || !block.children) continue;
      const children = block.children;
      for (let i = 0; i < children.length; i++) {
        const tok = children[i]!;
        if (lab && tok.type === 'image') rewriteLabImage(tok, lab[1]!);
        if (tok.type !== 'link_open') continue;
        let href = tok.attrGet('href') ?? '';
        if (href === '' || href.startsWith('#') || SCHEME.test(href) || href.startsWith('//')) continue;

        // 1. README links inside lab pages are relative to labs/<id>/.
        if (lab && !href.startsWith('/')) {
          const { pathPart, rest } = splitHref(href);
          const repoRel = path.posix.normalize(path.posix.join('labs', lab[1]!, pathPart));
          if (repoRel.startsWith('docs/')) {
            href = '/' + repoRel.slice('docs/'.length) + rest;
          } else {
            const other = /^labs\/(\d\d-[\w-]+)\/?(README\.md)?$/.exec(repoRel);
            if (other && (fs.existsSync(path.join(docsDir, 'labs', `${other[1]}.md`)))) {
              href = `/labs/${other[1]}${rest}`;
            } else {
              const exists = fs.existsSync(path.join(repoDir, repoRel));
              const text = children.slice(i + 1).find((t) => t.type === 'text' || t.type === 'code_inline')?.content ?? '';
              const suffix = text.includes(path.posix.basename(repoRel)) ? '' : ` <code class="repo-path">${escapeHtml(repoRel)}</code>`;
              unlink(children, i, 'repo-file', exists ? `in the repository: ${repoRel}` : `${repoRel} (not in the repository yet)`, suffix);
              continue;
            }
          }
          tok.attrSet('href', href);
        }

        // 2. Links to pages others are still writing.
        const { pathPart } = splitHref(href);
        const target = pathPart.startsWith('/')
          ? pathPart
          : path.posix.join('/', path.posix.dirname(rel), pathPart);
        const id = pageId(target);
        if (id !== null && !pageFileExists(id) && PENDING.some((re) => re.test(id))) {
          unlink(children, i, 'pending-link', `${id} is not written yet`, ' <small class="pending-note">(not written yet)</small>');
        }
      }
    }
  });

  md.core.ruler.push('wizz_cost_model', (state) => {
    for (const tok of state.tokens) {
      if (tok.type !== 'fence' || tok.info.trim() !== 'mermaid' || !tok.content.includes('@cost(')) continue;
      tok.content = tok.content.replace(/@cost\((\w+),\s*(\d+),\s*(\d+),\s*(\w+)\)/g, (whole, mech: string, total: string, active: string, field: string) => {
        if (!['select', 'poll', 'epoll', 'kqueue'].includes(mech) || !['fdsInspected', 'bytesCopied', 'calls'].includes(field)) {
          throw new Error(`bad cost-model placeholder ${whole} in ${(state.env as Env).relativePath}`);
        }
        return String(wakeupCost(mech as Mechanism, Number(total), Number(active))[field as keyof CallCost]);
      });
    }
  });

  const inline = md.renderer.rules.code_inline;
  md.renderer.rules.code_inline = (tokens, idx, options, env, self) => {
    tokens[idx]!.attrSet('v-pre', '');
    return inline ? inline(tokens, idx, options, env, self) : self.renderToken(tokens, idx, options);
  };
}

/** Images in a README are relative to labs/<id>/; point them there from docs/labs/. */
function rewriteLabImage(tok: Token, id: string): void {
  const src = tok.attrGet('src') ?? '';
  if (src === '' || src.startsWith('/') || SCHEME.test(src)) return;
  const repoRel = path.posix.normalize(path.posix.join('labs', id, src));
  if (repoRel.startsWith('docs/')) tok.attrSet('src', '/' + repoRel.slice('docs/'.length).replace(/^public\//, ''));
  else tok.attrSet('src', path.posix.relative('docs/labs', repoRel));
}
