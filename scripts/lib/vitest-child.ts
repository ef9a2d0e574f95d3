// Entry of a child process that runs one vitest invocation (see run-isolated.ts): the parent gets
// each result over IPC as it happens, so a run killed on a timeout still reports what finished and
// which files were still running.
import { runVitest, type RunOptions } from './vitest-run.ts';

const opts = JSON.parse(process.argv[2] ?? '{}') as RunOptions;
const send = (m: unknown) => process.send?.(m);

const run = await runVitest({
  ...opts,
  onTest: (r) => send({ t: 'test', r }),
  onModuleStart: (file, project) => send({ t: 'start', file, project }),
  onModuleEnd: (file, project) => send({ t: 'end', file, project }),
});
// Wait until the last message is written (IPC is ordered, so all before it are too), then exit:
// leftover handles in learner code must not keep this process alive.
await new Promise<void>((resolve) => (process.send ? process.send({ t: 'done', unhandled: run.unhandled }, () => resolve()) : resolve()));
process.exit(0);
