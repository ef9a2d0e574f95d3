import { describe, expect, it } from 'vitest';
import { STEPS, nextStep, selectSteps, type Step } from '../lib/steps.ts';

const ids = (s: Step[] | { error: string }) => ('error' in s ? s : s.map((x) => x.id));

describe('selectSteps', () => {
  it('keeps check order and names unknown steps', () => {
    expect(ids(selectSteps('typecheck,graders'))).toEqual(['graders', 'typecheck']);
    expect(selectSteps('nope')).toHaveProperty('error', expect.stringMatching(/unknown step\(s\): nope/));
    expect(selectSteps(undefined)).toBe(STEPS);
  });
  it('only the browser test depends on the build', () => {
    expect(STEPS.filter((s) => s.needs?.length).map((s) => [s.id, s.needs])).toEqual([['browser', ['docs-build']]]);
  });
});

describe('nextStep', () => {
  const run = (steps: Step[], jobs: number) => {
    // Starts steps as a scheduler with `jobs` slots would, finishing them in start order.
    const started = new Set<string>();
    const done = new Set<string>();
    const order: string[][] = [];
    while (done.size < steps.length) {
      const wave: string[] = [];
      for (let s = nextStep(steps, started, done); s && wave.length < jobs; s = nextStep(steps, started, done)) {
        started.add(s.id);
        wave.push(s.id);
      }
      wave.forEach((id) => done.add(id));
      order.push(wave);
    }
    return order;
  };
  it('starts the graders first and honesty only after them, so honesty reuses their run', () => {
    const order = run(STEPS, 2).flat();
    expect(order.indexOf('graders')).toBeLessThan(order.indexOf('honesty'));
    expect(order.indexOf('docs-build')).toBeLessThan(order.indexOf('browser'));
    expect(order.slice(0, 2)).toContain('graders');
  });
  it('ignores waits on steps that are not selected', () => {
    const only = selectSteps('honesty,browser') as Step[];
    expect(nextStep(only, new Set(), new Set())?.id).toBe('honesty');
  });
  it('every step waits only for steps that exist', () => {
    for (const s of STEPS) for (const w of [...(s.after ?? []), ...(s.needs ?? [])]) expect(STEPS.some((x) => x.id === w), `${s.id} waits for ${w}`).toBe(true);
  });
});
