import { describe, expect, it } from 'vitest';
import { lockfileDrift, type Lockfile } from '../lib/lockfile.ts';

const pkg = { name: 'w', version: '1.0.0', dependencies: { a: '^1.0.0' }, devDependencies: { d: '^2.0.0' } };
function lock(over: Partial<Lockfile['packages']> = {}, root: Record<string, unknown> = {}): Lockfile {
  return {
    name: 'w',
    version: '1.0.0',
    lockfileVersion: 3,
    packages: {
      '': { name: 'w', version: '1.0.0', dependencies: { a: '^1.0.0' }, devDependencies: { d: '^2.0.0' }, ...root },
      'node_modules/a': { version: '1.2.0', dependencies: { shared: '^1' } },
      'node_modules/d': { version: '2.0.0', dev: true, dependencies: { shared: '^1', tool: '^3' } },
      'node_modules/shared': { version: '1.0.0' },
      'node_modules/tool': { version: '3.0.0', dev: true },
      ...over,
    },
  };
}

describe('lockfileDrift', () => {
  it('passes a lock that agrees with package.json', () => {
    expect(lockfileDrift(pkg, lock())).toEqual([]);
  });
  it('names a dependency listed differently (the drift that made `npm install` dirty the tree)', () => {
    const drift = lockfileDrift(pkg, lock({}, { dependencies: {}, devDependencies: { a: '^1.0.0', d: '^2.0.0' } }));
    expect(drift).toContain('dependencies.a: package.json says "^1.0.0", the lock has none');
    expect(drift).toContain('devDependencies.a: package.json has none, the lock says "^1.0.0"');
  });
  it('names a range changed in package.json only', () => {
    expect(lockfileDrift({ ...pkg, dependencies: { a: '^1.1.0' } }, lock())).toEqual(['dependencies.a: package.json says "^1.1.0", the lock says "^1.0.0"']);
  });
  it('checks the dev flag of every locked package against what production code reaches', () => {
    expect(lockfileDrift(pkg, lock({ 'node_modules/shared': { version: '1.0.0', dev: true } }))).toEqual([
      'node_modules/shared is locked as a devDependency, but a production dependency needs it',
    ]);
    expect(lockfileDrift(pkg, lock({ 'node_modules/tool': { version: '3.0.0' } }))).toEqual(['node_modules/tool is locked as a production package, but only devDependencies need it']);
  });
  it('resolves nested node_modules like Node does', () => {
    const l = lock({ 'node_modules/a/node_modules/shared': { version: '2.0.0' }, 'node_modules/shared': { version: '1.0.0', dev: true } });
    expect(lockfileDrift(pkg, l)).toEqual([]);
  });
});
