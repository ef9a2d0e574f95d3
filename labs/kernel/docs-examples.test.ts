// The code the docs show must run: this extracts the select() echo server from
// docs/reference/kernel/select.md exactly as written and serves simulated clients with it.
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Kernel, type Process } from './index.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const page = path.join(here, '../../docs/reference/kernel/select.md');

function extractTestedBlock(markdown: string): string {
  const marker = markdown.indexOf('<!-- tested:');
  const start = markdown.indexOf('```ts\n', marker);
  const end = markdown.indexOf('\n```', start + 6);
  if (marker < 0 || start < 0 || end < 0) throw new Error('no tested ```ts block in select.md');
  return markdown.slice(start + 6, end + 1);
}

describe('docs: the select() echo server on the select page', () => {
  it('is about 20 lines and echoes to several clients, closing the ones that leave', async () => {
    const source = extractTestedBlock(fs.readFileSync(page, 'utf8'));
    expect(source.split('\n').length).toBeLessThanOrEqual(32);
    const file = path.join(os.tmpdir(), `wizz-select-echo-${process.pid}.ts`);
    fs.writeFileSync(file, source.replace("'#kernel/index.ts'", JSON.stringify(path.join(here, 'index.ts'))));
    const mod = (await import(pathToFileURL(file).href)) as {
      selectEchoServer: (proc: Process, port: number) => Promise<void>;
    };
    fs.rmSync(file);

    const kernel = new Kernel({ clock: 'virtual', seed: 3 });
    const server = kernel.spawn();
    void mod.selectEchoServer(server, 7777);
    await kernel.settle();
    const clients = [0, 1, 2].map(() => kernel.client(7777));
    clients.forEach((c, i) => c.send(`hello from ${i}`));
    await kernel.until(() => clients.every((c, i) => c.received.length === `hello from ${i}`.length), {
      what: 'every client got its echo',
    });
    clients.forEach((c, i) => expect(new TextDecoder().decode(c.received)).toBe(`hello from ${i}`));
    clients[1]!.close();
    await kernel.settle();
    expect(server.openFds().length).toBe(3 + 1 + 2); // std streams, listener, two clients left
    expect(server.meter.get('select').calls).toBeGreaterThan(0);
  });
});
