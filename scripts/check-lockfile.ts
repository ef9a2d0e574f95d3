// `tsx scripts/check-lockfile.ts`: package-lock.json agrees with package.json, so that `npm install`
// and `npm ci` leave `git status` clean (a step of `npm run check`). Fast, offline, no npm.
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './lib/paths.ts';
import { lockfileDrift, type Lockfile } from './lib/lockfile.ts';

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
const drift = lockfileDrift(pkg, lock);
if (drift.length === 0) {
  console.log(`  package-lock.json agrees with package.json (${Object.keys(lock.packages ?? {}).length - 1} locked packages)`);
  process.exit(0);
}
console.log(`  package-lock.json disagrees with package.json, so \`npm install\` would rewrite it (and \`npm ci\` refuses to run):`);
for (const d of drift.slice(0, 15)) console.log(`    ${d}`);
if (drift.length > 15) console.log(`    … and ${drift.length - 15} more`);
console.log('  Fix: run `npm install` once and commit package-lock.json with the package.json change.');
process.exit(1);
