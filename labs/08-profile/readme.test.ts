// Stage 08 graders, part 2: the commands this stage's README gives run as written, on this Node
// (20: NODE_OPTIONS refuses `--cpu-prof`), so they cannot rot; each profile:lab run leaves exactly
// one .cpuprofile, so nobody has to guess which file to open. Each
// `npm run …` line of the README's sh blocks is looked up in package.json and run the way npm
// would, pointed at the code being graded (labs/, solutions/ or an overlay).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// Under mutation testing the graders run in a sandbox copy that holds only the stages: the
// project's scripts are then taken from the project itself.
const SANDBOX = `${path.sep}.stryker-tmp${path.sep}`;
const PROJECT = ROOT.includes(SANDBOX) ? ROOT.slice(0, ROOT.indexOf(SANDBOX)) : ROOT;
const target = process.env.WIZZ_TARGET ?? 'labs';
const TARGET_DIR = path.isAbsolute(target) ? target : path.join(ROOT, target);
const README = fs.readFileSync(path.join(ROOT, 'labs/08-profile/README.md'), 'utf8');
const SCRIPTS = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

/** Every `npm run NAME -- ARGS` line inside the README's ```sh blocks. */
function readmeCommands(): Array<{ line: string; script: string; args: string[] }> {
  const blocks = [...README.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((b) => b.split('\n'))
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l.startsWith('npm run '))
    .map((line) => {
      const [, script, rest = ''] = /^npm run (\S+)(?: -- (.*))?$/.exec(line)!;
      return { line, script: script!, args: rest.split(/\s+/).filter(Boolean) };
    });
}

/** Runs one package.json script as npm would, on the graded code; a small input keeps it quick. */
async function runScript(script: string, args: string[], profileDir: string): Promise<{ code: number; out: string }> {
  const body = SCRIPTS[script];
  if (!body) return { code: -1, out: `package.json has no script "${script}"` };
  let argv = body.split(/\s+/).map((a) =>
    a.startsWith('labs/') ? path.join(TARGET_DIR, a.slice('labs/'.length))
    : a.startsWith('scripts/') ? path.join(PROJECT, a)
    : a.replace(/^--profile-dir=.*/, `--profile-dir=${profileDir}`));
  // The bench measures stage 05's pool: grade stage 08 without depending on stage 05's state.
  if (script === 'bench:pool') args = [...args, '--target', 'solutions'];
  const [cmd, ...rest] = argv;
  const bin = cmd === 'node' ? process.execPath : path.join(PROJECT, 'node_modules/.bin', cmd!);
  argv = [...rest, ...args];
  if (script === 'profile:lab' && args.length === 1) argv.push(args[0]!.startsWith('storm') ? '60000' : '8000'); // fewer messages
  const env: NodeJS.ProcessEnv = { ...process.env, POOL_BENCH_MESSAGES: '20000' };
  delete env.NODE_OPTIONS;
  try {
    const { stdout, stderr } = await run(bin, argv, { cwd: PROJECT, env, timeout: 60_000 });
    return { code: 0, out: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof err.code === 'number' ? err.code : 1, out: `${err.stdout ?? ''}${err.stderr ?? err.message}` };
  }
}

describe('08-profile: the README runs as written', () => {
  it('gives profiling steps that work on Node 20 (no NODE_OPTIONS=--cpu-prof)', () => {
    expect(README, 'NODE_OPTIONS=--cpu-prof fails on Node 20 ("--cpu-prof is not allowed in NODE_OPTIONS")').not.toMatch(/NODE_OPTIONS=--cpu-prof/);
    const commands = readmeCommands();
    expect(commands.map((c) => c.script), 'the README lists its commands in sh blocks').toEqual(expect.arrayContaining(['profile:lab', 'bench:pool']));
    for (const c of commands) expect(SCRIPTS[c.script], `README: \`${c.line}\` — package.json has no script "${c.script}"`).toBeDefined();
    expect(SCRIPTS['profile:lab'], 'the profile:lab script names the directory its profile goes to').toMatch(/--profile-dir=\S+/);
  });

  it("runs each of the README's commands: a report and a verdict, and a CPU profile where promised", async () => {
    const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'wizz-08-prof-'));
    try {
      const commands = readmeCommands();
      // Two at a time: the machine has two cores and other graders run beside this one.
      const results: Array<{ line: string; script: string; code: number; out: string }> = [];
      for (let i = 0; i < commands.length; i += 2) {
        const batch = commands.slice(i, i + 2);
        results.push(...(await Promise.all(batch.map(async (c) => ({ ...c, ...(await runScript(c.script, c.args, profileDir)) })))));
      }
      for (const r of results) {
        const tail = r.out.trim().split('\n').slice(-6).join('\n');
        expect(r.code, `README: \`${r.line}\` failed (exit ${r.code}):\n${tail}`).toBe(0);
        if (r.script === 'profile:lab') expect(r.out, `README: \`${r.line}\` prints the share and the verdict:\n${tail}`).toMatch(/GC share \d+(\.\d+)? % → (pool|no-pool|borderline)/);
        if (r.script === 'bench:pool') expect(r.out, `README: \`${r.line}\` prints its table:\n${tail}`).toMatch(/in flight\s+variant\s+collections/);
      }
      const profiles = fs.readdirSync(profileDir).filter((f) => f.endsWith('.cpuprofile'));
      const runs = results.filter((r) => r.script === 'profile:lab').length;
      expect(profiles.length, 'each npm run profile:lab writes exactly one .cpuprofile').toBe(runs);
      for (const r of results.filter((x) => x.script === 'profile:lab')) expect(r.out, 'and says which file it wrote').toMatch(/CPU profile: \S+\.cpuprofile/);
      const parsed = JSON.parse(fs.readFileSync(path.join(profileDir, profiles[0]!), 'utf8')) as { nodes?: unknown[] };
      expect(Array.isArray(parsed.nodes), 'a .cpuprofile DevTools can load').toBe(true);
    } finally {
      fs.rmSync(profileDir, { recursive: true, force: true });
    }
  }, 120_000);
});
