// bench:pool and bench:ring measure the code named by --target (labs by default), say which ran, say
// plainly when a starter is unfinished, and leave docs/data alone unless --write is given.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../lib/paths.ts';

const run = promisify(execFile);
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');

/** Runs a bench script; never rejects, returns what it printed and its exit code. */
async function bench(script: 'pool' | 'ring', args: string[]): Promise<{ code: number; out: string; err: string }> {
  const env = { ...process.env, POOL_BENCH_MESSAGES: '3000', RING_BENCH_MESSAGES: '3000', RING_BENCH_PRODUCERS: '1' };
  try {
    const { stdout, stderr } = await run(TSX, [path.join(ROOT, `scripts/bench/${script}.ts`), ...args], { cwd: ROOT, env, timeout: 60_000 });
    return { code: 0, out: stdout, err: stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === 'number' ? err.code : 1, out: err.stdout ?? '', err: err.stderr ?? '' };
  }
}

/** A fingerprint of docs/data: the bench must not change a byte of it without --write. */
function docsData(): string {
  const dir = path.join(ROOT, 'docs/data');
  const hash = crypto.createHash('sha256');
  for (const f of fs.readdirSync(dir).sort()) hash.update(f).update(fs.readFileSync(path.join(dir, f)));
  return hash.digest('hex');
}

describe('benches of stage code: --target, --write', () => {
  for (const script of ['pool', 'ring'] as const) {
    it(`bench:${script} --target solutions measures the reference, says so, and leaves docs/data untouched`, async () => {
      const before = docsData();
      const r = await bench(script, ['--target', 'solutions']);
      expect(r.code, `bench:${script} failed: ${r.err}`).toBe(0);
      expect(r.out).toMatch(/measuring .* in solutions\//);
      expect(r.out).toMatch(/docs\/data not touched/);
      expect(docsData(), `bench:${script} without --write changed docs/data (git status would not be clean)`).toBe(before);
    }, 90_000);

    it(`bench:${script} defaults to labs/ and, on an unfinished starter, says so without a stack`, async () => {
      const before = docsData();
      const r = await bench(script, []);
      expect(r.out).toMatch(/measuring .* in labs\/ \(your code/);
      if (r.code !== 0) {
        expect(r.err, 'an unfinished starter is reported plainly').toMatch(/is not finished yet .*\n.*--target solutions/);
        expect(r.err, 'no stack trace for an unfinished starter').not.toMatch(/^\s+at /m);
      }
      expect(docsData()).toBe(before);
    }, 90_000);
  }

  it('refuses --write for labs (the docs chart the reference) and an unknown target', async () => {
    const write = await bench('pool', ['--write']);
    expect(write.code).toBe(2);
    expect(write.err).toMatch(/--target solutions --write/);
    const unknown = await bench('pool', ['--target', 'elsewhere']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/--target labs\|solutions/);
  }, 60_000);
});
