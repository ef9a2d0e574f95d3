// The `--target labs|solutions` and `--write` options shared by the benches that measure stage code
// (bench:pollers, bench:pool, bench:ring): learners measure their own labs/ by default; the docs' charts are the
// reference solutions, and docs/data is rewritten only when asked (`--write`), so a learner's bench
// run leaves `git status` clean.
import path from 'node:path';
import { parseFlags } from '../../server/util/cli.ts';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type Target = 'labs' | 'solutions';

export interface BenchArgs {
  target: Target;
  write: boolean;
  /** file URL of a stage file in the chosen target, e.g. stageFile('05-pool/pool.ts'). */
  stageFile: (rel: string) => string;
  /** The bench's name as an npm script, e.g. "bench:pool". */
  script: string;
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** `what`: one line saying what the bench measures, for --help. */
export function benchArgs(script: string, what: string): BenchArgs {
  const usage = `usage: npm run ${script} [-- --target labs|solutions] [--write]
  ${what}
  --target T   labs (default: your code) or solutions (the reference the docs chart)
  --write      record the docs' chart in docs/data (only with --target solutions)`;
  const values = parseFlags({ target: { type: 'string', default: 'labs' }, write: { type: 'boolean', default: false } }, usage);
  const target = values.target as string;
  if (target !== 'labs' && target !== 'solutions') {
    console.error(`npm run ${script} -- --target labs|solutions [--write]   (got --target ${target})`);
    process.exit(2);
  }
  if (values.write && target !== 'solutions') {
    console.error(`--write records the docs' charts, which show the reference solutions: npm run ${script} -- --target solutions --write`);
    process.exit(2);
  }
  return { target, write: !!values.write, script, stageFile: (rel) => pathToFileURL(path.join(root, target, rel)).href };
}

/** Says which code is measured, before anything runs. */
export function announce(args: BenchArgs, what: string): void {
  const whose = args.target === 'labs' ? 'your code' : 'the reference solutions';
  const other = args.target === 'labs' ? `\`npm run ${args.script} -- --target solutions\` measures the reference` : `without --target it measures labs/`;
  console.log(`${args.script}: measuring ${what} in ${args.target}/ (${whose}; ${other})\n`);
}

/**
 * Runs `probe` (a tiny use of the stage's code); if it throws, says plainly which stage is not
 * finished and how to measure the reference instead, and exits — no stack.
 */
export async function requireFinished(args: BenchArgs, stage: string, probe: () => unknown | Promise<unknown>): Promise<void> {
  try {
    await probe();
  } catch (err) {
    const message = (err as Error)?.message ?? String(err);
    console.error(`${args.target}/${stage} is not finished yet (${message.split('\n')[0]}).`);
    console.error(args.target === 'labs' ? `Finish stage ${stage.slice(0, 2)} first, or measure the reference: npm run ${args.script} -- --target solutions` : 'The reference solution fails: please tell a maintainer.');
    process.exit(1);
  }
}

/** The closing line: where the numbers went (nowhere, unless --write). */
export function closing(args: BenchArgs, written: string | null): void {
  console.log(written ? `\nwrote ${path.relative(root, written)}` : `\n(docs/data not touched: \`npm run ${args.script} -- --target solutions --write\` updates the docs' chart)`);
}
