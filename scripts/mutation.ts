// npm run mutation -- NN | all [--write] [--concurrency N] [--incremental] [--reuse]
//
// Mutation testing as the graders' yardstick: StrykerJS changes the reference solution of a stage
// one small piece at a time (a `<` into `<=`, a branch removed, a string emptied) and runs the
// stage's graders against each change. A mutant the graders do not notice "survives": either the
// change is equivalent (the program behaves the same), or the graders miss a behaviour.
// Only the files the stage asks the learner to write are mutated (starters containing TODO).
//
// Per stage it prints the score and every survivor and writes reports/mutation/<id>/ (Stryker's
// HTML and JSON reports, survivors.txt). With --write it also records the stage in
// docs/data/mutation.json, which docs/reference/graders.md renders; without it git status stays clean.
// --reuse runs nothing: it takes each stage's last run (reports/mutation/<id>/summary.json) and
// matches its survivors against scripts/mutation-explanations.json again (after adding explanations).
// Too slow for `npm run check` (minutes per stage): maintainers run it when graders change.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './lib/paths.ts';
import { integerFlag, parseCommand } from '../server/util/cli.ts';
import { loadManifest, resolveStage } from './lib/stages.ts';
import { stageReportDir, startsWorkers, writeStageConfigs, type MutationOptions } from './lib/mutation-config.ts';
import { gradeMutantByHand, needsSecondOpinion } from './lib/mutation-verify.ts';
import {
  countMutants,
  findExplanation,
  formatSurvivors,
  failureReason,
  markUnmeasured,
  mergeStage,
  readExplanations,
  readMutationData,
  score,
  survivorsOf,
  TARGET,
  type StageSummary,
  type StrykerReport,
} from './lib/mutation-report.ts';

const DATA_FILE = path.join(ROOT, 'docs/data/mutation.json');
const EXPLANATIONS_FILE = path.join(ROOT, 'scripts/mutation-explanations.json');
const STRYKER_BIN = path.join(ROOT, 'node_modules/@stryker-mutator/core/bin/stryker.js');

interface Args {
  stages: string[];
  write: boolean;
  reuse: boolean;
  opts: MutationOptions;
}

const USAGE = `usage: npm run mutation -- <NN|all> [NN ...] [--write] [--concurrency N] [--incremental] [--reuse]
  the mutation score of a stage's graders (Stryker; minutes per stage)
  --write          record the scores in docs/data/mutation.json
  --concurrency N  Stryker workers (default 2)
  --incremental    reuse Stryker's results for unchanged code
  --reuse          report the last run's results without running Stryker`;

function usage(msg: string): never {
  console.error(`${msg}\n\n${USAGE}`);
  process.exit(2);
}

function parseArgs(argv: string[], ids: string[]): Args {
  const { values, positionals } = parseCommand(
    { write: { type: 'boolean' }, incremental: { type: 'boolean' }, reuse: { type: 'boolean' }, concurrency: { type: 'string' } },
    USAGE,
    argv,
  );
  // The machines this runs on have 2 cores; more workers only queue.
  const concurrency = values.concurrency === undefined ? 2 : integerFlag('concurrency', values.concurrency, 1, 64);
  const stages: string[] = [];
  for (const a of positionals) {
    if (a === 'all') stages.push(...ids);
    else {
      const r = resolveStage(a, ids);
      if ('error' in r) usage(r.error);
      stages.push(r.id);
    }
  }
  if (stages.length === 0) usage('which stage? (NN or all)');
  return { stages: [...new Set(stages)], write: !!values.write, reuse: !!values.reuse, opts: { concurrency, incremental: !!values.incremental } };
}

/** Runs Stryker, echoing its output (and keeping it in `output`, to say why a run failed). */
function runStryker(configFile: string, output: string[]): Promise<number> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.WIZZ_TARGET; // the generated vitest config decides the target
    delete env.NODE_OPTIONS; // no tsx loader in Stryker's own processes
    const child = spawn(process.execPath, [STRYKER_BIN, 'run', configFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env });
    const keep = (stream: NodeJS.WritableStream) => (chunk: Buffer) => {
      stream.write(chunk);
      output.push(chunk.toString());
      if (output.length > 2000) output.splice(0, output.length - 2000);
    };
    child.stdout.on('data', keep(process.stdout));
    child.stderr.on('data', keep(process.stderr));
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}


function machine(): StageSummary['machine'] {
  return {
    nproc: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
  };
}

async function runStage(id: string, args: Args): Promise<StageSummary | null> {
  const { strykerConfig, files, workers } = writeStageConfigs(id, args.opts);
  console.log(`\n== ${id}: mutating ${files.join(', ')}${workers ? ' (worker threads: every grader runs for every mutant)' : ''}`);
  const reportFile = path.join(ROOT, stageReportDir(id), 'mutation.json');
  fs.rmSync(reportFile, { force: true });
  const started = Date.now();
  const output: string[] = [];
  const code = await runStryker(strykerConfig, output);
  if (code !== 0 || !fs.existsSync(reportFile)) {
    console.error(`${id}: Stryker failed (exit ${code}); see its output above.${args.write ? ' Recorded as not measured.' : ''}`);
    if (args.write) {
      const reason = `Stryker stopped (exit ${code}) before testing any mutant: ${failureReason(output.join(''))}`;
      fs.writeFileSync(DATA_FILE, JSON.stringify(markUnmeasured(readMutationData(DATA_FILE), id, reason), null, 2) + '\n');
    }
    return null;
  }
  const report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as StrykerReport;
  // An incremental run's report also carries the files an earlier run mutated (say, before a
  // starter lost its TODO): count only the files mutated now.
  for (const file of Object.keys(report.files)) if (!files.includes(file.split('\\').join('/'))) delete report.files[file];
  const handGraded = await secondOpinions(id, report);
  const durationSeconds = Math.round((Date.now() - started) / 1000);
  const counts = countMutants(report);
  const pct = score(counts);
  const survivors = survivorsOf(report, readExplanations(EXPLANATIONS_FILE));
  const text = formatSurvivors(id, counts, pct, survivors);
  fs.writeFileSync(path.join(ROOT, stageReportDir(id), 'survivors.txt'), text);
  console.log(`\n${text}(${durationSeconds} s; HTML report: ${stageReportDir(id)}/mutation.html)`);
  const summary: StageSummary = {
    stage: id,
    score: pct,
    counts,
    files,
    coverageAnalysis: workers ? 'off' : 'perTest',
    incremental: Boolean(args.opts.incremental),
    date: new Date().toISOString(),
    machine: machine(),
    command: `npm run mutation -- ${id.slice(0, 2)}${args.opts.incremental ? ' --incremental' : ''}`,
    durationSeconds,
    handGraded,
    survivors,
  };
  fs.writeFileSync(summaryFile(id), JSON.stringify(summary, null, 2) + '\n');
  return summary;
}

const summaryFile = (id: string) => path.join(ROOT, stageReportDir(id), 'summary.json');

/** The stage's last run, its survivors matched against the explanations as they are now. */
function reuseStage(id: string): StageSummary | null {
  if (!fs.existsSync(summaryFile(id))) {
    console.error(`${id}: no previous run in ${stageReportDir(id)}/ (run it without --reuse first)`);
    return null;
  }
  const last = JSON.parse(fs.readFileSync(summaryFile(id), 'utf8')) as StageSummary;
  const explanations = readExplanations(EXPLANATIONS_FILE);
  const survivors = last.survivors.map((s) => ({ ...s, explanation: findExplanation(explanations, s, s.lineText) }));
  const summary = { ...last, survivors };
  fs.writeFileSync(summaryFile(id), JSON.stringify(summary, null, 2) + '\n');
  const text = formatSurvivors(id, summary.counts, summary.score, survivors);
  fs.writeFileSync(path.join(ROOT, stageReportDir(id), 'survivors.txt'), text);
  console.log(`\n${text}(run of ${summary.date}, reused)`);
  return summary;
}

/** Re-grades by hand the survivors Stryker cannot have measured (see mutation-verify.ts); updates the report. */
async function secondOpinions(id: string, report: StrykerReport): Promise<StageSummary['handGraded']> {
  const out: StageSummary['handGraded'] = [];
  const workers = startsWorkers(id);
  for (const [file, f] of Object.entries(report.files)) {
    for (const m of f.mutants) {
      if (!needsSecondOpinion(m, workers)) continue;
      const result = await gradeMutantByHand(id, file, m);
      const why = m.status === 'NoCoverage' ? 'no coverage seen (worker threads)' : `Stryker ran ${m.testsCompleted ?? '?'} test(s)`;
      console.log(`${id}: ${file}:${m.location.start.line} ${m.mutatorName} → ${m.replacement}: ${why}; graded by hand, the graders ${result}`);
      out.push({ file, line: m.location.start.line, mutator: m.mutatorName, replacement: m.replacement ?? '', result });
      if (result === 'failed') m.status = 'Killed';
      else if (result === 'timeout') m.status = 'Timeout';
      else m.status = 'Survived'; // every grader passed with the mutant in place
    }
  }
  return out;
}

async function main(): Promise<void> {
  const ids = loadManifest().map((s) => s.id);
  const args = parseArgs(process.argv.slice(2), ids);
  const done: StageSummary[] = [];
  const failed: string[] = [];
  for (const id of args.stages) {
    const summary = args.reuse ? reuseStage(id) : await runStage(id, args);
    if (!summary) {
      failed.push(id);
      continue;
    }
    done.push(summary);
    if (args.write) {
      // Re-read and write after every stage: an `all` run takes long, and a stage that finished
      // stays recorded even if a later one is interrupted.
      fs.writeFileSync(DATA_FILE, JSON.stringify(mergeStage(readMutationData(DATA_FILE), summary), null, 2) + '\n');
    }
  }
  console.log('\nstage        score   killed timeout survived no-cov  time');
  for (const s of done) {
    const c = s.counts;
    const flag = s.score >= TARGET ? '' : `  below ${TARGET} %`;
    console.log(
      `${s.stage.padEnd(12)} ${s.score.toFixed(1).padStart(5)} % ${String(c.killed).padStart(6)} ${String(c.timeout).padStart(7)} ${String(c.survived).padStart(8)} ${String(c.noCoverage).padStart(6)} ${String(s.durationSeconds).padStart(4)} s${flag}`,
    );
  }
  for (const id of failed) console.log(`${id.padEnd(12)} Stryker failed`);
  if (args.write && done.length) console.log(`\nrecorded in ${path.relative(ROOT, DATA_FILE)}`);
  const unexplained = done.reduce((n, s) => n + s.survivors.filter((v) => !v.explanation).length, 0);
  if (unexplained) console.log(`${unexplained} survivor(s) without an explanation in scripts/mutation-explanations.json`);
  process.exitCode = failed.length ? 1 : 0;
}

await main();
