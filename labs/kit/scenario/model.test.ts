// The model of the lab chat that scenario grading trusts: fds reused lowest-first, presence,
// renames, the slow consumer's drop at the exact byte, the FD_SETSIZE wall, the fd limit, and stories that
// pick nobody doing nothing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { plan, type World } from './model.ts';
import { stories, type Story } from './story.ts';

const world: World = { baseFds: [0, 1, 2, 3], wall: null, capacity: 1024, maxOutbound: 3072, maxSay: 700 };
const story = (steps: Story['steps']): Story => ({ buffers: 'tight', nearWall: null, steps });
const canons = (p: ReturnType<typeof plan>, step: number, client: number) => (p.steps[step]!.frames.get(client) ?? []).map((e) => e.canon);

describe('scenario model', () => {
  it('gives a new client the lowest free fd, so a freed number comes back', () => {
    const p = plan(story([{ do: 'connect', kinds: ['reader', 'reader', 'reader'] }, { do: 'leave', who: [0], how: 'close' }, { do: 'connect', kinds: ['reader'] }]), world);
    expect(p.clients.map((c) => c.fd)).toEqual([4, 5, 6, 4]);
    expect(p.steps[1]!.fds).toEqual([0, 1, 2, 3, 5, 6]);
    expect(p.steps[2]!.fds).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(canons(p, 1, 1)).toEqual(['PRESENCE guest4 leave']);
    expect(canons(p, 2, 2)).toEqual(['PRESENCE guest4 join']);
  });

  it('announces joins to those already there, and LOGIN renames in place', () => {
    const p = plan(
      story([
        { do: 'connect', kinds: ['reader', 'reader'] },
        { do: 'send', who: 1, requests: [{ t: 'login' }, { t: 'who' }, { t: 'say', size: 3 }], as: 'coalesced', cut: 0 },
      ]),
      world,
    );
    expect(canons(p, 0, 0)).toEqual(['PRESENCE guest5 join']);
    expect(canons(p, 0, 1)).toEqual([]);
    const replies = canons(p, 1, 1);
    expect(replies[0]).toMatch(/^OK \{"re":"B\.1","user":"b-1","pending":0\}$/);
    expect(replies[1]).toBe('OK {"re":"B.2","users":["guest4","b-1"]}');
    // The others hear the old name leave and the new one join before it speaks (chat.ts).
    expect(canons(p, 1, 0)).toEqual(['PRESENCE guest5 leave', 'PRESENCE b-1 join', 'ROOM b-1: "B3-"']);
  });

  it('drops a client that never reads once its queue would pass the bound, and tells the others', () => {
    const p = plan(
      story([
        { do: 'connect', kinds: ['reader', 'never-reads', 'reader'] },
        { do: 'burst', who: [0, 2], size: 700, rounds: 3 },
      ]),
      world,
    );
    const sloth = p.clients[1]!;
    expect(sloth.live).toBe(false);
    expect(p.steps[1]!.departing.has(1)).toBe(true);
    expect(sloth.owed).toBeLessThanOrEqual(world.capacity + world.maxOutbound);
    expect(canons(p, 1, 0)).toContain('PRESENCE guest5 leave');
  });

  it('refuses a client past the wall with ERROR server_full, and reuses that fd next time', () => {
    const p = plan(story([{ do: 'connect', kinds: ['reader', 'reader'] }, { do: 'connect', kinds: ['reader'] }]), {
      ...world,
      baseFds: [0, 1, 2, ...Array.from({ length: 1020 }, (_, i) => i + 3)],
      wall: 1024,
    });
    expect(p.clients[0]!.fd).toBe(1023);
    expect(p.clients[1]!.refusedAt).toBe(1024);
    expect(p.steps[0]!.departing.get(1)!.map((e) => e.canon)).toEqual(['ERROR server_full']);
    expect(p.clients[2]!.refusedAt).toBe(1024);
  });

  it('half-close with data in flight: the others hear the SAY, then the leave', () => {
    const p = plan(story([{ do: 'connect', kinds: ['reader', 'reader'] }, { do: 'say-and-fin', who: 0, size: 2 }]), world);
    expect(canons(p, 1, 1)).toEqual(['ROOM guest4: "A1"', 'PRESENCE guest4 leave']);
    expect(p.steps[1]!.acts.map((a) => a.op)).toEqual(['send', 'leave']);
  });

  it('refuses a client at the fd limit with ERROR server_full, holds no fd for it, and seats the next one once an fd is free', () => {
    const p = plan(
      story([{ do: 'connect', kinds: ['reader', 'reader'] }, { do: 'leave', who: [0], how: 'close' }, { do: 'connect', kinds: ['reader'] }]),
      { ...world, limit: 5 },
    );
    expect(p.clients.map((c) => c.fd)).toEqual([4, null, 4]);
    expect(p.steps[0]!.departing.get(1)).toEqual([{ source: 'reply', canon: 'ERROR server_full' }]);
    expect(p.steps[0]!.fds).toEqual([0, 1, 2, 3, 4]);
    expect(canons(p, 0, 0)).toEqual([]); // nobody joined
    expect(p.steps[0]!.line).toBe('A [fd 4], B [no fd left: EMFILE] connect at once');
    expect(canons(p, 2, 2)).toEqual([]);
    expect(p.steps[2]!.fds).toEqual([0, 1, 2, 3, 4]);
  });

  it('is a pure function of the story: the same story always plans the same', () => {
    fc.assert(
      fc.property(stories({ wall: true }), (s) => {
        const w = { ...world, wall: 1024 };
        expect(JSON.stringify(plan(s, w).steps.map((st) => [st.line, [...st.frames], st.fds]))).toBe(
          JSON.stringify(plan(s, w).steps.map((st) => [st.line, [...st.frames], st.fds])),
        );
      }),
      { numRuns: 50, seed: 1 },
    );
  });
});
