import { describe, expect, it } from 'vitest';
import { resolveStage, stageFromPath } from '../lib/stages.ts';

const ids = ['00-packets', '01-select', '03-epoll', '07-db-actor'];

describe('stageFromPath', () => {
  it('finds the stage folder under labs/ or solutions/', () => {
    expect(stageFromPath('labs/03-epoll/server.ts')).toBe('03-epoll');
    expect(stageFromPath('/home/me/wizz/solutions/07-db-actor/wrong/x.patch')).toBe('07-db-actor');
    expect(stageFromPath('solutions/01-select/loop.ts')).toBe('01-select');
    expect(stageFromPath('labs\\03-epoll\\server.ts')).toBe('03-epoll');
  });
  it('is null outside a stage', () => {
    expect(stageFromPath('labs/kernel/epoll.ts')).toBeNull();
    expect(stageFromPath('labs/stages.json')).toBeNull();
    expect(stageFromPath('server/main.ts')).toBeNull();
    expect(stageFromPath('labs/03-epoll')).toBe('03-epoll'); // fs.watch may report the folder itself
  });
});

describe('resolveStage', () => {
  it('accepts a number, a padded number, the id or the name', () => {
    for (const a of ['3', '03', '03-epoll', 'epoll', ' EPOLL ']) expect(resolveStage(a, ids)).toEqual({ id: '03-epoll' });
    expect(resolveStage('db-actor', ids)).toEqual({ id: '07-db-actor' });
  });
  it('says which stages exist when it does not know one', () => {
    const r = resolveStage('42', ids);
    expect('error' in r && r.error).toMatch(/00, 01, 03, 07/);
  });
});
