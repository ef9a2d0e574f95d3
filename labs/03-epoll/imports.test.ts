// Grader: stage 03's own files import only what labs/stages.json lists for it ("imports"), so
// the stage cannot be passed by importing code that already does its job.
import { describe, it } from 'vitest';
import { checkImports } from '#kit/imports.ts';

describe('imports', () => {
  it("your files import only what stage 03 allows (no reference code that does the stage's job)", async () => {
    await checkImports('03-epoll');
  });
});
