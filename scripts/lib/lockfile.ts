// Does package-lock.json agree with package.json? If not, `npm install` rewrites the lockfile and a
// fresh clone shows a modified file after its very first command (and `npm ci` refuses to run).
// Checked without the network and without npm: the lock's root entry must repeat package.json's
// dependency lists, and each locked package's "dev" flag must match whether a production
// dependency reaches it — the drift seen before: prod packages locked as dev.

interface LockPackage {
  version?: string;
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

export interface Lockfile {
  name?: string;
  version?: string;
  lockfileVersion?: number;
  packages?: Record<string, LockPackage & Record<string, unknown>>;
}

const ROOT_FIELDS = ['name', 'version', 'dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies', 'engines', 'bin', 'workspaces'] as const;

/** Every way the lockfile disagrees with package.json, as sentences; empty when they agree. */
export function lockfileDrift(pkg: Record<string, unknown>, lock: Lockfile): string[] {
  const out: string[] = [];
  if (!lock.packages || (lock.lockfileVersion ?? 0) < 2) return ['package-lock.json has no "packages" section (lockfileVersion ≥ 2 expected)'];
  const root = lock.packages[''] ?? {};
  if (lock.name !== pkg.name || lock.version !== pkg.version) out.push(`the lock is for ${lock.name}@${lock.version}, package.json says ${String(pkg.name)}@${String(pkg.version)}`);
  for (const field of ROOT_FIELDS) {
    const want = normalise(pkg[field]);
    const have = normalise((root as Record<string, unknown>)[field]);
    if (want === have) continue;
    if (isRecord(pkg[field]) || isRecord(root[field as keyof typeof root])) {
      const a = (pkg[field] ?? {}) as Record<string, unknown>;
      const b = (root[field as keyof typeof root] ?? {}) as Record<string, unknown>;
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
        if (JSON.stringify(a[k]) === JSON.stringify(b[k])) continue;
        out.push(`${field}.${k}: package.json ${a[k] === undefined ? 'has none' : `says ${JSON.stringify(a[k])}`}, the lock ${b[k] === undefined ? 'has none' : `says ${JSON.stringify(b[k])}`}`);
      }
    } else out.push(`${field}: package.json says ${want ?? 'nothing'}, the lock ${have ?? 'nothing'}`);
  }
  // Which locked packages production code reaches (through dependencies, optional and required peers).
  const packages = lock.packages;
  const prod = new Set<string>();
  const visit = (from: string, deps: Record<string, string>) => {
    for (const name of Object.keys(deps)) {
      const at = resolve(packages, from, name);
      if (!at || prod.has(at)) continue;
      prod.add(at);
      const p = packages[at]!;
      const required = Object.fromEntries(Object.entries(p.peerDependencies ?? {}).filter(([n]) => !p.peerDependenciesMeta?.[n]?.optional));
      visit(at, { ...p.dependencies, ...p.optionalDependencies, ...required });
    }
  };
  visit('', { ...(pkg.dependencies as Record<string, string>), ...(pkg.optionalDependencies as Record<string, string>) });
  for (const [at, p] of Object.entries(packages)) {
    if (at === '' || p.link) continue;
    const flaggedDev = !!(p.dev || p.devOptional);
    if (prod.has(at) && p.dev) out.push(`${at} is locked as a devDependency, but a production dependency needs it`);
    else if (!prod.has(at) && !flaggedDev) out.push(`${at} is locked as a production package, but only devDependencies need it`);
  }
  return out;
}

/** Node's lookup: node_modules/<name> in the requiring package's folder, then in each parent's. */
function resolve(packages: Record<string, unknown>, from: string, name: string): string | null {
  let dir = from;
  for (;;) {
    const at = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[at]) return at;
    if (!dir) return null;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i < 0 ? '' : dir.slice(0, i);
  }
}

function isRecord(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function normalise(v: unknown): string | undefined {
  if (v === undefined || (isRecord(v) && Object.keys(v as object).length === 0)) return undefined;
  return JSON.stringify(v, isRecord(v) ? Object.keys(v as object).sort() : undefined);
}
