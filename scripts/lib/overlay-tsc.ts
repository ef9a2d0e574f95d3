// Type-checks every overlay's patched stage folder with ONE tsc invocation: a generated tsconfig
// that extends the project's and includes each overlay's stage folder. A known-wrong variant must
// be a program a learner could write — one that type-checks — or it proves nothing about the graders.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './paths.ts';

export interface OverlayToCheck {
  /** The overlay's directory (what `#stage/` points at). */
  dir: string;
  stage: string;
}

/** tsc's error lines per overlay dir; an overlay with none type-checks. Errors elsewhere are ignored (the typecheck step owns them). */
export async function typecheckOverlays(overlays: OverlayToCheck[], workDir: string): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(overlays.map((o) => [o.dir, []]));
  if (overlays.length === 0) return out;
  const config = path.join(workDir, 'tsconfig.json');
  fs.writeFileSync(
    config,
    JSON.stringify(
      {
        extends: path.join(ROOT, 'tsconfig.json'),
        compilerOptions: { noEmit: true, incremental: false },
        include: overlays.map((o) => path.join(o.dir, o.stage, '**', '*.ts')),
        exclude: ['**/node_modules/**'],
      },
      null,
      2,
    ),
  );
  const text = await run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', config, '--pretty', 'false']);
  // An error of tsc itself (bad config, could not start) would otherwise read as "all compile".
  const fatal = text.split('\n').find((l) => /^error TS\d+:|^tsc could not start/.test(l));
  if (fatal) throw new Error(`type-checking the overlays failed: ${fatal}`);
  // "path(line,col): error TSnnnn: message", continuation lines indented
  let current: string[] | null = null;
  for (const line of text.split('\n')) {
    const m = line.match(/^(.+?)\(\d+,\d+\): error TS\d+: /);
    if (m) {
      const file = path.resolve(ROOT, m[1]!);
      const owner = overlays.find((o) => file.startsWith(o.dir + path.sep));
      current = owner ? out.get(owner.dir)! : null;
      current?.push(owner ? path.relative(owner.dir, file) + line.slice(m[1]!.length) : line);
    } else if (current && /^\s/.test(line)) current.push(line.trim());
  }
  return out;
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    child.on('close', () => resolve(text));
    child.on('error', (e) => resolve(`tsc could not start: ${e.message}`));
  });
}
