// One set of graders, two (or more) targets. The graders beside each stage in labs/NN-name/
// import the stage's code through `#stage/NN-name/...`; WIZZ_TARGET decides where that points:
//   labs (default)   — the learner's workspace, what `npm test` grades
//   solutions        — the reference solutions, what `npm run check` grades
//   <absolute path>  — an overlay directory (a copy of solutions/ with a known-wrong patch applied)
// The honesty check runs many targets in one process through its own config
// (scripts/lib/honesty-vitest.config.ts), which reuses GRADERS below.
import { defineConfig } from 'vitest/config';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));
const target = process.env.WIZZ_TARGET ?? 'labs';
const targetDir = path.isAbsolute(target) ? target : path.join(root, target);

/** The graders project's options, shared with the honesty check's per-variant projects. */
export const GRADERS = {
  include: 'labs/[0-9][0-9]-*/**/*.test.ts',
  exclude: ['**/node_modules/**'],
  testTimeout: 30_000,
  hookTimeout: 30_000,
};

export default defineConfig({
  resolve: {
    alias: [{ find: /^#stage\/(.*)$/, replacement: `${targetDir}/$1` }],
  },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'graders',
          include: [GRADERS.include],
          exclude: GRADERS.exclude,
          testTimeout: GRADERS.testTimeout,
          hookTimeout: GRADERS.hookTimeout,
        },
      },
      {
        extends: true,
        test: {
          name: 'kernel',
          include: ['labs/kernel/**/*.test.ts', 'labs/kit/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'server',
          include: ['server/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'scripts',
          include: ['scripts/**/*.test.ts'],
          testTimeout: 60_000,
        },
      },
    ],
  },
});
