// The conformance suite inside vitest (project `kernel`): every scenario played on the emulator must
// give exactly what the real Linux kernel gives (through python3), and kqueue scenarios what
// FreeBSD's kqueue(2) describes. Then the suite proves it has teeth: emulators broken on purpose
// (an ET that re-fires, a poll without POLLHUP, a LT that forgets) must fail it.
import { afterEach, describe, expect, it } from 'vitest';
import { Epoll } from '../epoll.ts';
import { POLLHUP } from '../constants.ts';
import { KFile, type Watcher } from '../file.ts';
import { Socket } from '../socket.ts';
import { runOnEmulator } from './emulator-runner.ts';
import { firstDifference, loadScenarios, runOnLinux, type StepResult } from './scenario.ts';

const scenarios = loadScenarios();
const linuxScenarios = scenarios.filter((s) => s.linux !== false);
const kqueueScenarios = scenarios.filter((s) => s.linux === false);
const linux = runOnLinux(scenarios);
if (!linux.ok) {
  console.warn(
    `\n${'!'.repeat(78)}\n!!! CONFORMANCE: the REAL-KERNEL side was SKIPPED — ${linux.why}\n` +
      `!!! The emulator was NOT checked against Linux in this run.\n${'!'.repeat(78)}\n`,
  );
}

function explain(name: string, mine: StepResult[] | undefined, ref: StepResult[] | undefined): string {
  const d = firstDifference(mine, ref);
  const sc = scenarios.find((s) => s.name === name)!;
  return `${name}: step ${d + 1} ${JSON.stringify(sc.steps[d])}\n  emulator: ${JSON.stringify(mine?.[d])}\n  expected: ${JSON.stringify(ref?.[d])}`;
}

describe('conformance', () => {
  it('has at least 40 scenarios, Linux-checked and kqueue ones', () => {
    expect(scenarios.length).toBeGreaterThanOrEqual(40);
    expect(linuxScenarios.length).toBeGreaterThanOrEqual(40);
    expect(kqueueScenarios.length).toBeGreaterThan(0);
    expect(new Set(scenarios.map((s) => s.name)).size).toBe(scenarios.length);
  });

  it.skipIf(!linux.ok)('the emulator matches real Linux on every Linux scenario', async () => {
    if (!linux.ok) return;
    const emu = await runOnEmulator(linuxScenarios);
    const differing = linuxScenarios
      .filter((s) => firstDifference(emu[s.name], linux.results[s.name]) >= 0)
      .map((s) => explain(s.name, emu[s.name], linux.results[s.name]));
    expect(differing, differing.join('\n')).toEqual([]);
  });

  it('the emulator matches FreeBSD kqueue(2) on every kqueue scenario', async () => {
    const emu = await runOnEmulator(kqueueScenarios);
    const differing = kqueueScenarios
      .filter((s) => firstDifference(emu[s.name], s.expect) >= 0)
      .map((s) => explain(s.name, emu[s.name], s.expect));
    expect(differing, differing.join('\n')).toEqual([]);
  });
});

describe('the suite has teeth: deliberately broken emulators fail it', () => {
  const restore: Array<() => void> = [];
  afterEach(() => restore.splice(0).forEach((undo) => undo()));

  function patch<T extends object, K extends keyof T>(proto: T, key: K, make: (original: T[K]) => T[K]): void {
    const original = proto[key];
    proto[key] = make(original);
    restore.push(() => (proto[key] = original));
  }

  /** The reference: real Linux when available, else the unbroken emulator (itself checked above). */
  async function reference(): Promise<Record<string, StepResult[]>> {
    return linux.ok ? { ...linux.results } : runOnEmulator(linuxScenarios);
  }

  async function failingScenarios(): Promise<string[]> {
    const ref = await reference();
    const broken = await runOnEmulator(linuxScenarios);
    return linuxScenarios.filter((s) => firstDifference(broken[s.name], ref[s.name]) >= 0).map((s) => s.name);
  }

  it('an edge-triggered epoll that re-fires like level-triggered', async () => {
    const ref = await reference();
    patch(Epoll.prototype, 'harvest', (original) =>
      function (this: Epoll, out, max) {
        const result = original.call(this, out, max);
        for (const item of this.items.values()) if (item.file.pollMask() & item.events) this.enqueue(item);
        return result;
      },
    );
    const broken = await runOnEmulator(linuxScenarios);
    const failing = linuxScenarios.filter((s) => firstDifference(broken[s.name], ref[s.name]) >= 0).map((s) => s.name);
    expect(failing).toContain('epoll-et-no-refire');
    expect(failing).toContain('epoll-et-add-when-ready');
  });

  it('a poll that never reports POLLHUP', async () => {
    patch(Socket.prototype, 'pollMask', (original) =>
      function (this: Socket) {
        return original.call(this) & ~POLLHUP;
      },
    );
    const failing = await failingScenarios();
    expect(failing).toContain('both-shut-hup');
    expect(failing).toContain('reset-pollerr');
    expect(failing).toContain('fresh-socket-poll');
  });

  it('a POLLHUP reported as soon as the peer closes (the common misconception)', async () => {
    patch(Socket.prototype, 'pollMask', (original) =>
      function (this: Socket) {
        const m = original.call(this);
        return this.readShut ? m | POLLHUP : m;
      },
    );
    const failing = await failingScenarios();
    expect(failing).toContain('peer-close-unread');
    expect(failing).toContain('epoll-peer-close-unread');
  });

  it('an EPOLLEXCLUSIVE that wakes every sleeping waiter (the herd it exists to avoid)', async () => {
    patch(KFile.prototype, 'notify', () =>
      function (this: KFile, key: number) {
        const watchers = (this as unknown as { watchers: Watcher[] | null }).watchers ?? [];
        for (const w of watchers.slice()) w.wake(key);
      },
    );
    const failing = await failingScenarios();
    expect(failing).toContain('epoll-exclusive-wakes-one');
    expect(failing).not.toContain('epoll-herd-wakes-all');
  });

  it('an epoll nesting check that ignores the sets above the one added to', async () => {
    patch(Epoll.prototype, 'depthAbove', () => () => 0);
    const failing = await failingScenarios();
    expect(failing).toContain('epoll-nest-depth-above');
  });

  it('an epoll nesting check that allows one link too many', async () => {
    patch(Epoll.prototype, 'depthBelow', (original) =>
      function (this: Epoll, target, seen) {
        const depth = original.call(this, target, seen);
        return depth > 0 ? depth - 1 : depth;
      },
    );
    const failing = await failingScenarios();
    expect(failing).toContain('epoll-nest-depth-below');
  });

  it('a kqueue that ignores EV_CLEAR fails its kqueue(2) scenario', async () => {
    const { Kqueue } = await import('../kqueue.ts');
    patch(Kqueue.prototype, 'harvest', (original) =>
      function (this: InstanceType<typeof Kqueue>, out, offset, max) {
        const r = original.call(this, out, offset, max);
        for (let i = offset; i < offset + r[1]; i++) out[i]!.flags &= ~0x20;
        return r;
      },
    );
    const emu = await runOnEmulator(kqueueScenarios);
    const failing = kqueueScenarios.filter((s) => firstDifference(emu[s.name], s.expect) >= 0).map((s) => s.name);
    expect(failing).toContain('kq-clear');
  });
});
