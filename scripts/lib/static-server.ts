// A tiny static server for a built VitePress site (clean URLs, a base path), bound to 127.0.0.1.
// In-process on purpose: nothing to orphan, and the browser test uses the same `resolveFile` to
// decide whether a link points at a built page.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.xml': 'application/xml',
};

/** The built file a URL path serves (clean URLs: /a/b → a/b.html, /a/ → a/index.html), or null. */
export function resolveFile(dist: string, base: string, urlPath: string): string | null {
  let p: string;
  try {
    p = decodeURIComponent(urlPath.split(/[?#]/)[0]!);
  } catch {
    return null;
  }
  if (!p.startsWith(base)) return null;
  p = '/' + p.slice(base.length);
  const abs = path.join(dist, path.normalize(p));
  if (!abs.startsWith(dist)) return null;
  const candidates = p.endsWith('/') ? [path.join(abs, 'index.html')] : [abs, abs + '.html', path.join(abs, 'index.html')];
  return candidates.find((f) => fs.existsSync(f) && fs.statSync(f).isFile()) ?? null;
}

/** The site's base ("/" or "/wizz/") read from the built index.html's asset URLs. */
export function detectBase(dist: string): string {
  const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
  return html.match(/(?:src|href)="(\/[^"]*?)assets\//)?.[1] ?? '/';
}

export async function serve(dist: string, base: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const file = resolveFile(dist, base, req.url ?? '/');
    const notFound = path.join(dist, '404.html');
    const chosen = file ?? (fs.existsSync(notFound) ? notFound : null);
    res.statusCode = file ? 200 : 404;
    if (!chosen) return res.end('not found');
    res.setHeader('content-type', TYPES[path.extname(chosen)] ?? 'application/octet-stream');
    fs.createReadStream(chosen).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Every built page (relative .html paths), 404.html excluded. */
export function listPages(dist: string): string[] {
  return (fs.readdirSync(dist, { recursive: true }) as string[])
    .map((f) => f.split(path.sep).join('/'))
    .filter((f) => f.endsWith('.html') && f !== '404.html' && !f.startsWith('assets/'))
    .sort();
}

/** "chapters/02-pollers.html" → "/chapters/02-pollers"; "labs/index.html" → "/labs/". */
export function pageUrlPath(relHtml: string, base: string): string {
  const clean = relHtml.replace(/(^|\/)index\.html$/, '$1').replace(/\.html$/, '');
  return base + clean;
}
