// One set of graders, two (or more) targets. The graders beside each stage in labs/NN-name/
// import the stage's code through `#stage/NN-name/...`; WIZZ_TARGET decides where that points:
//   labs (default)   — the learner's workspace, what `npm test` grades
//   solutions        — the reference solutions, what `npm run check` grades
//   <absolute path>  — an overlay directory, used by the honesty check for known-wrong variants
import { defineConfig } from 'vitest/config';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));
const target = process.env.WIZZ_TARGET ?? 'labs';
const targetDir = path.isAbsolute(target) ? target : path.join(root, target);

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
          include: ['labs/[0-9][0-9]-*/**/*.test.ts'],
          exclude: ['**/node_modules/**', 'labs/*/wrong/**'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
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
