// Git reads used by `npm run reset`. Only read commands: the learner's repo is never changed here
// except by writing the restored files.
import { execFileSync } from 'node:child_process';
import { ROOT } from './paths.ts';

export function git(args: string[], root = ROOT): string {
  return execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

export function gitOk(args: string[], root = ROOT): string | null {
  try {
    return git(args, root).trim();
  } catch {
    return null;
  }
}

/** The upstream ref to restore from, and whether it is a real upstream (not the learner's HEAD). */
export function upstreamRef(root = ROOT): { ref: string; upstream: boolean } | null {
  for (const ref of ['origin/HEAD', 'origin/main', 'origin/master']) {
    if (gitOk(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], root)) return { ref, upstream: true };
  }
  return gitOk(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], root) ? { ref: 'HEAD', upstream: false } : null;
}

/** A starter file: what the learner edits. Graders and the README are never touched. */
export function isStarterFile(stageRelPath: string): boolean {
  const base = stageRelPath.split('/').pop()!;
  return !base.endsWith('.test.ts') && base !== 'README.md';
}
