// `npm run watch`: grades everything once, then re-grades the stage whose folder changed on every
// save (debounced), keeping the other stages' last results for the scoreboard. Ctrl-C to stop.
import fs from 'node:fs';
import path from 'node:path';
import { loadManifest, stageDirs, stageFromPath } from './lib/stages.ts';
import { creditFor, gradeRun, targetDirOf } from './lib/grade-run.ts';
import { renderReport, stageResults } from './lib/report.ts';
import { loadProgress } from './lib/progress.ts';
import type { RunResult, StageResult } from './lib/results.ts';
import { c } from './lib/color.ts';
import { parseCommand } from '../server/util/cli.ts';

const USAGE = `usage: npm run watch [-- --target labs|solutions|/abs/overlay]
  grades every stage once, then re-grades the stage whose folder changed on every save (Ctrl-C to stop)
  --target T   what to watch and grade: labs (default, or $WIZZ_TARGET)`;
const { values: flags, positionals } = parseCommand({ target: { type: 'string', default: process.env.WIZZ_TARGET ?? 'labs' } }, USAGE);
if (positionals.length) {
  console.error(`watch takes no stage (it re-grades the one you save): ${positionals.join(' ')}\n\n${USAGE}`);
  process.exit(2);
}
if (!fs.existsSync(targetDirOf(flags.target!))) {
  console.error(`--target ${flags.target}: no such directory (labs, solutions, or an overlay's path)\n\n${USAGE}`);
  process.exit(2);
}

const DEBOUNCE_MS = 250;
const target = flags.target!;
const cache = new Map<string, StageResult>();
let running = false;
let queued: Set<string> | null = null; // stages changed while a run was in progress; empty = all
let timer: NodeJS.Timeout | undefined;
let pending = new Set<string>();

async function show(run: RunResult, graded: string[] | null): Promise<void> {
  const fresh = stageResults(run);
  if (graded === null) cache.clear();
  for (const id of graded ?? []) cache.delete(id);
  for (const [id, r] of fresh) cache.set(id, r);
  const credit = await creditFor(cache, target);
  const { lines } = renderReport({
    credit,
    stages: loadManifest(),
    present: new Set(stageDirs()),
    results: cache,
    unhandled: run.unhandled,
    targetDir: targetDirOf(target),
    hintsShown: loadProgress().hintsShown,
    focus: graded?.length === 1 ? graded[0] : undefined,
  });
  if (process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
  const what = graded === null ? 'all stages' : graded.join(', ');
  console.log(c.dim(`[${new Date().toLocaleTimeString()}] graded ${what} — watching labs/ (Ctrl-C to stop)`));
  console.log(lines.join('\n'));
}

async function grade(stages: Set<string>): Promise<void> {
  if (running) {
    queued = new Set([...(queued ?? []), ...stages]);
    if (stages.size === 0) queued = new Set();
    return;
  }
  running = true;
  const ids = stages.size ? [...stages].filter((id) => fs.existsSync(path.join(targetDirOf(target), id))) : null;
  try {
    await show(await gradeRun(target, ids && ids.length ? ids : null), ids && ids.length ? ids : null);
  } finally {
    running = false;
  }
  if (queued) {
    const next = queued;
    queued = null;
    await grade(next);
  }
}

function onChange(file: string | null): void {
  if (!file || /(^|[\\/])(\.|node_modules)/.test(file)) return;
  const stage = stageFromPath(path.join('labs', file));
  // A change outside any stage (kernel, kit, stages.json) may affect all of them.
  if (stage) pending.add(stage);
  else pending = new Set(['*']);
  clearTimeout(timer);
  timer = setTimeout(() => {
    const stages = pending.has('*') ? new Set<string>() : pending;
    pending = new Set();
    void grade(stages);
  }, DEBOUNCE_MS);
}

fs.watch(targetDirOf(target), { recursive: true }, (_event, file) => onChange(file ? file.toString() : null));
await grade(new Set());
