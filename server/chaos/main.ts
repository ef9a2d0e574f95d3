// npm run chaos — the reference server checked the way the graders are: generated client histories,
// faults from a nemesis, every observation judged against a model of the Guarantees page; a
// failure is shrunk and told as a story with the seed that replays it.
import { SingleBar, Presets } from 'cli-progress';
import { integerFlag, parseFlags } from '../util/cli.ts';
import { faultsFor } from './nemesis.ts';
import { explore, type ExploreResult } from './shrink.ts';
import { tell } from './story.ts';
import type { History } from './history.ts';
import { Srv } from '../protocol/codes.ts';
import { ClusterTarget, HarnessTarget, ProcessTarget, type Target, type TargetKind } from './targets.ts';

const USAGE = `Usage: npm run chaos -- [options]

Runs generated client histories against the reference server while a nemesis injects faults, and
checks each history against a model of docs/server/guarantees.md. A failure is shrunk to the
shortest history that still fails and printed as a story with the command that replays it.

  --hosts H        1 (default): one real server process (2 reactors); H ≥ 2: H hosts with a real
                   redis-server and PostgreSQL
  --sentinel       with --hosts ≥ 2: Redis is a primary, a replica and three sentinels (fault redis-failover)
  --in-process     one host, the whole server in this process (its database thread can be killed)
  --histories K    stop after K histories (default 20 unless --minutes is given)
  --minutes M      stop starting new histories after M minutes
  --seed N         the first history's seed (default: from the clock); history k uses N + k.
                   With --histories 1 it replays exactly that history (and its shrinking)
  --path P         with --seed: replay the shrunk history the failure printed (no further shrinking)
  --faults LIST    comma-separated faults (default: all of the target's; "none" for none):
${(['process', 'harness', 'cluster'] as TargetKind[]).map((k) => `                   ${k}: ${faultsFor(k).map((f) => f.name).join(', ')}`).join('\n')}
                   cluster --sentinel: ${faultsFor('cluster', 'sentinel').map((f) => f.name).join(', ')}
  --shrink-seconds S  time for shrinking a failure (default 240)
  --max-steps N    steps per history at most (default 50)
  --verbose        print every history as a story, passing ones too
  --help           this text`;

const flags = parseFlags(
  {
    hosts: { type: 'string' },
    'in-process': { type: 'boolean' },
    sentinel: { type: 'boolean' },
    histories: { type: 'string' },
    minutes: { type: 'string' },
    seed: { type: 'string' },
    path: { type: 'string' },
    faults: { type: 'string' },
    'shrink-seconds': { type: 'string' },
    'max-steps': { type: 'string' },
    verbose: { type: 'boolean' },
  },
  USAGE,
);

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

const hosts = flags.hosts === undefined ? 1 : integerFlag('hosts', flags.hosts, 1, 9);
const kind: TargetKind = hosts > 1 ? 'cluster' : flags['in-process'] ? 'harness' : 'process';
if (flags['in-process'] && hosts > 1) fail('--in-process is one host: it cannot go with --hosts > 1');
if (flags.sentinel && hosts < 2) fail('--sentinel is about many hosts: give --hosts 2 or more');
const redisMode = flags.sentinel ? 'sentinel' : 'single';
const minutes = flags.minutes === undefined ? undefined : Number(flags.minutes);
if (minutes !== undefined && !(minutes > 0 && minutes <= 24 * 60)) fail(`--minutes must be a number of minutes above 0, got "${flags.minutes}"`);
const histories = flags.histories === undefined ? (minutes === undefined ? 20 : Infinity) : integerFlag('histories', flags.histories, 1, 1_000_000);
const seed = flags.seed === undefined ? Date.now() % 1_000_000_000 : integerFlag('seed', flags.seed, 0, 2 ** 31 - 1);
if (flags.path !== undefined && flags.seed === undefined) fail('--path replays a shrunk history of one seed: give --seed too');
const available = faultsFor(kind, redisMode).map((f) => f.name);
const faults = flags.faults === undefined ? available : flags.faults === 'none' ? [] : flags.faults.split(',').map((s) => s.trim());
for (const f of faults) if (!available.includes(f)) fail(`--faults: "${f}" is not a fault of this target (${available.join(', ')})`);
const shrinkSeconds = flags['shrink-seconds'] === undefined ? 240 : integerFlag('shrink-seconds', flags['shrink-seconds'], 0, 24 * 3600);
const maxSteps = flags['max-steps'] === undefined ? 50 : integerFlag('max-steps', flags['max-steps'], 1, 500);

/** The command that replays history `r`, which ran with `theFault`. */
const replay = (r: ExploreResult, theFault: string[]) =>
  `npm run chaos -- --seed ${r.seed} --histories 1${hosts > 1 ? ` --hosts ${hosts}` : ''}${flags.sentinel ? ' --sentinel' : ''}${kind === 'harness' ? ' --in-process' : ''} --faults ${theFault.join(',') || 'none'}`;

/** One line about what a history did: requests and their outcomes, DMs, pushed frames, faults. */
function summary(h: History): string {
  const finalT = h.events.find((e) => e.kind === 'mark' && e.what === 'final reads')?.t ?? Infinity;
  const run = h.events.filter((e) => e.t < finalT);
  const replies = run.filter((e) => e.kind === 'reply');
  const ok = replies.filter((e) => e.kind === 'reply' && e.frame.type === Srv.OK).length;
  const pushed = run.filter((e) => e.kind === 'push').length;
  const faults = run.filter((e) => e.kind === 'nemesis' && e.phase === 'start').map((e) => (e.kind === 'nemesis' ? e.fault : ''));
  return `${run.filter((e) => e.kind === 'invoke').length} requests (${ok} OK, ${replies.length - ok} ERROR), ${pushed} pushed frames, ${h.final.stored.length} DMs stored, faults: ${faults.join(' ') || 'none'}`;
}

async function main(): Promise<number> {
  console.log(`chaos: ${kind === 'cluster' ? `${hosts} hosts, redis-server and PostgreSQL` : kind === 'harness' ? 'one host, in this process' : 'one server process, 2 reactors'}; faults: ${faults.join(', ') || 'none'}; seeds from ${seed}`);
  const target: Target = kind === 'cluster' ? await ClusterTarget.start(hosts, redisMode) : kind === 'harness' ? await HarnessTarget.start() : await ProcessTarget.start();
  const stop = () => void target.stop().finally(() => process.exit(130));
  process.once('SIGINT', stop);
  const started = Date.now();
  const bar = process.stdout.isTTY ? new SingleBar({ format: 'chaos [{bar}] {value} histories | {runs} runs | {status}', hideCursor: true }, Presets.shades_classic) : null;
  bar?.start(Number.isFinite(histories) ? histories : Math.max(1, Math.round((minutes ?? 1) * 12)), 0, { runs: 0, status: 'running' });
  let runs = 0;
  let done = 0;
  let lastSummary = '';
  try {
    for (let k = 0; k < histories; k++) {
      if (minutes !== undefined && Date.now() - started > minutes * 60_000) break;
      // One fault a history, in turn, placed early (its after-effects show in the rest); a
      // single-history replay names its fault with --faults, so history 0 is that one again.
      const theFault = faults.length === 0 ? [] : [faults[k % faults.length]!];
      const result = await explore({
        target,
        faults: theFault,
        mustFault: theFault.length > 0,
        seed: seed + k,
        path: flags.path,
        shrinkBudgetMs: flags.path !== undefined ? 0 : shrinkSeconds * 1_000,
        maxSteps,
        onHistory: (h, v) => {
          if (flags.verbose) console.log(`\n${tell(h, v)}\n`);
          lastSummary = summary(h);
        },
        onRun: (info) => {
          runs++;
          bar?.update(done, { runs, status: info.shrinking ? `shrinking (${info.steps} steps)` : 'running' });
          if (!bar && info.shrinking) console.log(`  shrinking: a candidate of ${info.steps} steps ${info.failed ? 'fails too' : 'passes'}`);
        },
      });
      done++;
      bar?.update(done, { runs });
      if (!bar) console.log(`history ${done} (seed ${result.seed}): ${result.failure ? 'FAILED' : 'ok'} — ${lastSummary}`);
      if (result.error) {
        bar?.stop();
        console.log(`\nThe run itself failed (seed ${result.seed}): ${result.error}\nReplay: ${replay(result, theFault)}`);
        return 1;
      }
      if (result.failure) {
        bar?.stop();
        console.log(`\nA history breaks the guarantees (seed ${result.seed}; shrunk to ${result.failure.plan.steps.length} steps in ${result.shrinks} shrinks, ${result.runs} runs):\n`);
        console.log(tell(result.failure.history, result.failure.violations));
        console.log(`\nReplay: ${replay(result, theFault)}`);
        if (result.path) console.log(`The shrunk history alone: ${replay(result, theFault)} --path "${result.path}"`);
        return 1;
      }
    }
    bar?.stop();
    console.log(`chaos: ${done} histories, ${runs} runs in ${Math.round((Date.now() - started) / 1_000)} s: no guarantee broken`);
    return 0;
  } finally {
    bar?.stop();
    await target.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`chaos: ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
