// What the learner's workspace must not hold: solution code or known-wrong variants. labs/NN-name/
// has the starter files (one per file of solutions/NN-name/), the graders (*.test.ts) and the
// README — nothing else; no wrong/ folder, no patch, no file headed like a known-wrong variant.
import fs from 'node:fs';
import path from 'node:path';

export interface LabsProblem {
  /** Path relative to labs/. */
  file: string;
  why: string;
}

const VARIANT_HEADER = /^\s*(#|\/\/)\s*(mistake|replaces):/m;

export function labsProblems(labsDir: string, solutionsDir: string, stages: string[]): LabsProblem[] {
  const out: LabsProblem[] = [];
  for (const f of walk(labsDir)) {
    const rel = path.relative(labsDir, f).split(path.sep).join('/');
    const parts = rel.split('/');
    if (parts.includes('node_modules')) continue;
    if (parts.includes('wrong')) out.push({ file: rel, why: 'known-wrong variants live in solutions/NN-name/wrong/*.patch, never in labs/' });
    else if (/\.(patch|diff|orig|rej)$/.test(rel)) out.push({ file: rel, why: 'a patch or its leftovers in the learner\'s workspace' });
    else if (/\.[cm]?[jt]s$/.test(rel) && VARIANT_HEADER.test(head(f))) out.push({ file: rel, why: 'headed like a known-wrong variant (// mistake:)' });
  }
  for (const stage of stages) {
    const dir = path.join(labsDir, stage);
    for (const f of walk(dir)) {
      const rel = path.relative(dir, f).split(path.sep).join('/');
      if (rel.split('/').includes('wrong') || rel === 'README.md' || rel.endsWith('.test.ts')) continue;
      if (!fs.existsSync(path.join(solutionsDir, stage, rel)) && !out.some((p) => p.file === `${stage}/${rel}`)) {
        out.push({ file: `${stage}/${rel}`, why: `neither a starter (solutions/${stage}/ has no ${rel}), a grader (*.test.ts) nor the README` });
      }
    }
  }
  return out;
}

function walk(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).map((f) => path.join(dir, f)).filter((f) => fs.statSync(f).isFile());
}

function head(file: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(400);
    const n = fs.readSync(fd, buf, 0, buf.length, 0);
    return buf.subarray(0, n).toString('utf8').split('\n').slice(0, 4).join('\n');
  } finally {
    fs.closeSync(fd);
  }
}
