// The steps of `npm run check`, as data: what runs, what it depends on, how it is counted.
// check runs them two at a time (the machine it must fit has 2 cores), in this order of priority:
// the longest chain first (graders → honesty), the rest beside it.
export type StepKind =
  | { type: 'command'; cmd: string[] } // counts as one check: exit code 0 or not
  | { type: 'vitest'; project: string; target: string; dirs: string[]; allowEmpty: boolean; maxWorkers?: number } // counts each test
  | { type: 'summary'; cmd: string[] }; // a script that writes a --summary file with its own counts

export interface Step {
  id: string;
  title: string;
  kind: StepKind;
  /** Skipped (not run, not counted as passed) when one of these failed. */
  needs?: string[];
  /** Starts only after these (when selected) have finished: honesty reuses the graders' run. */
  after?: string[];
}

const tsx = (script: string) => [process.execPath, '--import', 'tsx', script];

export const STEPS: Step[] = [
  { id: 'lockfile', title: 'package-lock.json agrees with package.json (npm install leaves git clean)', kind: { type: 'command', cmd: tsx('scripts/check-lockfile.ts') } },
  { id: 'graders', title: 'every grader against solutions/ (WIZZ_TARGET=solutions)', kind: { type: 'vitest', project: 'graders', target: 'solutions', dirs: ['labs'], allowEmpty: true, maxWorkers: 2 } },
  { id: 'honesty', title: 'honesty of the graders (scripts/honesty.ts)', kind: { type: 'summary', cmd: tsx('scripts/honesty.ts') }, after: ['graders'] },
  { id: 'docs-build', title: 'docs build (vitepress build docs; dead links are errors)', kind: { type: 'command', cmd: ['node_modules/.bin/vitepress', 'build', 'docs'] } },
  { id: 'browser', title: 'docs in headless Chromium (scripts/browser-test.ts)', kind: { type: 'summary', cmd: [...tsx('scripts/browser-test.ts'), '--no-build'] }, needs: ['docs-build'] },
  { id: 'typecheck', title: 'typecheck (tsc --noEmit)', kind: { type: 'command', cmd: ['node_modules/.bin/tsc', '--noEmit'] } },
  { id: 'kernel', title: 'kernel suite incl. conformance (project kernel)', kind: { type: 'vitest', project: 'kernel', target: 'labs', dirs: ['labs/kernel', 'labs/kit'], allowEmpty: true } },
  { id: 'server', title: "the server's tests (project server)", kind: { type: 'vitest', project: 'server', target: 'labs', dirs: ['server'], allowEmpty: true } },
  // The tools' own tests exist from day one: an empty scripts project is a real failure.
  { id: 'scripts', title: "scripts' own tests (project scripts)", kind: { type: 'vitest', project: 'scripts', target: 'labs', dirs: ['scripts'], allowEmpty: false } },
];

/** `--only a,b`: the selected steps in check's order, or an error naming the unknown ones. */
export function selectSteps(only: string | undefined, steps = STEPS): Step[] | { error: string } {
  if (!only) return steps;
  const want = only.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = want.filter((w) => !steps.some((s) => s.id === w));
  if (unknown.length) return { error: `unknown step(s): ${unknown.join(', ')}. Steps: ${steps.map((s) => s.id).join(', ')}` };
  return steps.filter((s) => want.includes(s.id));
}

/**
 * The next step to start: the first not yet started whose `after` and `needs` steps (those selected)
 * are done.
 * Returns null when none can start now.
 */
export function nextStep(steps: Step[], started: Set<string>, done: Set<string>): Step | null {
  const waitsFor = (s: Step) => [...(s.after ?? []), ...(s.needs ?? [])];
  return steps.find((s) => !started.has(s.id) && waitsFor(s).every((a) => !steps.some((x) => x.id === a) || done.has(a))) ?? null;
}
