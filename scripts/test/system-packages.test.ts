// npm run check on a fresh machine: the missing Debian packages in one line, with the command.
import { describe, expect, it } from 'vitest';
import { missingLine, missingPackages, type SystemPackage } from '../lib/system-packages.ts';

const fake: SystemPackage[] = [
  { name: 'chromium', steps: ['browser'], present: () => false },
  { name: 'redis-server', steps: ['server'], present: () => false },
  { name: 'postgresql', steps: ['server'], present: () => true },
];

describe('system packages check needs', () => {
  it('names only what the selected steps need and is missing', () => {
    expect(missingPackages(['browser', 'server'], fake)).toEqual(['chromium', 'redis-server']);
    expect(missingPackages(['typecheck', 'graders'], fake)).toEqual([]);
    expect(missingPackages(['server'], fake)).toEqual(['redis-server']);
  });
  it('says it in one line with the one command that installs them', () => {
    const line = missingLine(['chromium', 'redis-server']);
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toMatch(/apt-get install -y --no-install-recommends chromium redis-server/);
  });
});
