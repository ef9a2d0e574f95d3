// The Debian packages some steps of `npm run check` start themselves — the same list and the same
// tests as .ci/run, which installs them — so that check on a fresh machine says in one line what is
// missing and the one command that installs it, instead of failing minutes later in a step.
import fs from 'node:fs';
import path from 'node:path';

export interface SystemPackage {
  /** The Debian package. */
  name: string;
  /** The check steps that need it. */
  steps: string[];
  present: () => boolean;
}

const onPath = (bin: string) => (process.env.PATH ?? '').split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, bin)));
const initdb = () => fs.existsSync('/usr/lib/postgresql') && fs.readdirSync('/usr/lib/postgresql').some((v) => fs.existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));

export const SYSTEM_PACKAGES: SystemPackage[] = [
  { name: 'chromium', steps: ['browser'], present: () => fs.existsSync(process.env.WIZZ_CHROMIUM ?? '/usr/bin/chromium') },
  { name: 'redis-server', steps: ['server'], present: () => onPath('redis-server') },
  { name: 'postgresql', steps: ['server'], present: initdb },
  // `ip netns`: as root the multi-host tests give each host its own network namespace.
  { name: 'iproute2', steps: ['server'], present: () => process.getuid?.() !== 0 || onPath('ip') },
];

/** The packages the selected steps need that are not installed. */
export function missingPackages(stepIds: string[], packages = SYSTEM_PACKAGES): string[] {
  return packages.filter((p) => p.steps.some((s) => stepIds.includes(s)) && !p.present()).map((p) => p.name);
}

/** One line: what is missing and the command that installs it. */
export function missingLine(names: string[]): string {
  const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
  return `missing Debian packages for npm run check: ${names.join(' ')} — install them with: ${sudo}apt-get install -y --no-install-recommends ${names.join(' ')} (or run .ci/run, which does it and then runs check)`;
}
