// Which of the theme's components are inline (used inside a sentence, like <Cost …/>), so the
// markdown parser treats them as inline HTML. VitePress's component rule otherwise takes any
// unknown tag that starts a line for the start of an HTML block — and a paragraph whose line
// happens to begin with <Cost …/> falls apart into fragments. Derived from the components
// themselves (a template whose root element is inline), so a new inline component is covered
// without anyone remembering to list it.
import fs from 'node:fs';
import path from 'node:path';
import { vitepressDir } from './repo.ts';

const INLINE_ROOTS = new Set(['span', 'a', 'abbr', 'code', 'em', 'strong', 'small', 'sub', 'sup', 'kbd', 'mark', 'time', 'var']);

/** The root element of a .vue file's template, or null. */
export function templateRoot(vue: string): string | null {
  const template = /<template>([\s\S]*)<\/template>/.exec(vue)?.[1] ?? '';
  const withoutComments = template.replace(/<!--[\s\S]*?-->/g, '');
  return /<([a-zA-Z][\w-]*)/.exec(withoutComments)?.[1]?.toLowerCase() ?? null;
}

const kebab = (name: string) => name.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

/** Tag names (PascalCase and kebab-case) of the theme components whose root is an inline element. */
export function inlineComponentTags(dir = path.join(vitepressDir, 'theme', 'components')): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.vue'))
    .filter((f) => INLINE_ROOTS.has(templateRoot(fs.readFileSync(path.join(dir, f), 'utf8')) ?? ''))
    .flatMap((f) => {
      const name = f.slice(0, -'.vue'.length);
      return [name, kebab(name)];
    });
}
