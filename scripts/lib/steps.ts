// The steps of `npm run check`, as data: what runs, what it depends on, how it is counted.
export type StepKind =
  | { type: 'command'; cmd: string[] } // counts as one check: exit code 0 or not
  | { type: 'vitest'; project: string; target: string; dirs: string[]; allowEmpty: boolean } // counts each test
  | { type: 'summary'; cmd: string[] }; // a script that writes a --summary file with its own counts

export interface Step {
  id: string;
  title: string;
  kind: StepKind;
  /** Skipped (not run, not counted as passed) when one of these failed. */
  needs?: string[];
}

export const STEPS: Step[] = [
  { id: 'typecheck', title: 'typecheck (tsc --noEmit)', kind: { type: 'command', cmd: ['node_modules/.bin/tsc', '--noEmit'] } },
  { id: 'graders', title: 'every grader against solutions/ (WIZZ_TARGET=solutions)', kind: { type: 'vitest', project: 'graders', target: 'solutions', dirs: ['labs'], allowEmpty: true } },
  { id: 'kernel', title: 'kernel suite incl. conformance (project kernel)', kind: { type: 'vitest', project: 'kernel', target: 'labs', dirs: ['labs/kernel', 'labs/kit'], allowEmpty: true } },
  { id: 'server', title: "the server's tests (project server)", kind: { type: 'vitest', project: 'server', target: 'labs', dirs: ['server'], allowEmpty: true } },
  // The tools' own tests exist from day one: an empty scripts project is a real failure.
  { id: 'scripts', title: "scripts' own tests (project scripts)", kind: { type: 'vitest', project: 'scripts', target: 'labs', dirs: ['scripts'], allowEmpty: false } },
  { id: 'docs-build', title: 'docs build (vitepress build docs; dead links are errors)', kind: { type: 'command', cmd: ['node_modules/.bin/vitepress', 'build', 'docs'] } },
  { id: 'browser', title: 'docs in headless Chromium (scripts/browser-test.ts)', kind: { type: 'summary', cmd: [process.execPath, '--import', 'tsx', 'scripts/browser-test.ts', '--no-build'] }, needs: ['docs-build'] },
  { id: 'honesty', title: 'honesty of the graders (scripts/honesty.ts)', kind: { type: 'summary', cmd: [process.execPath, '--import', 'tsx', 'scripts/honesty.ts'] } },
];

/** `--only a,b`: the selected steps in check's order, or an error naming the unknown ones. */
export function selectSteps(only: string | undefined, steps = STEPS): Step[] | { error: string } {
  if (!only) return steps;
  const want = only.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = want.filter((w) => !steps.some((s) => s.id === w));
  if (unknown.length) return { error: `unknown step(s): ${unknown.join(', ')}. Steps: ${steps.map((s) => s.id).join(', ')}` };
  return steps.filter((s) => want.includes(s.id));
}
