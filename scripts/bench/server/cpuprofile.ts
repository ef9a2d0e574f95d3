// Reading V8 .cpuprofile files (what `node --cpu-prof` writes): self time per function, and the
// share of time in the pseudo-nodes V8 adds — "(garbage collector)", "(program)", "(idle)".
export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>;
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface FunctionTime {
  /** "name (file:line)", the file relative to the repository when it is inside it. */
  name: string;
  selfMs: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Time not idle: everything but "(idle)". */
  busyMs: number;
  gcMs: number;
  /** gcMs / busyMs: the share of the process's working time spent collecting garbage. */
  gcShare: number;
  top: FunctionTime[];
}

function label(frame: CpuProfile['nodes'][number]['callFrame'], root: string): string {
  const name = frame.functionName || '(anonymous)';
  if (!frame.url) return name;
  let file = frame.url.replace(/^file:\/\//, '');
  if (file.startsWith(root)) file = file.slice(root.length + 1);
  // Code that tsx compiled on the fly reports line 0: name the file alone rather than a wrong line.
  return frame.lineNumber > 0 ? `${name} (${file}:${frame.lineNumber + 1})` : `${name} (${file})`;
}

/**
 * Self time per function of one or more profiles together (the reactors of one run, say). With
 * `windowUs` ([from, to] on CLOCK_MONOTONIC in µs — V8's profile clock on Linux, and what
 * process.hrtime reads), only the samples taken inside the window count.
 */
export function summarize(profiles: CpuProfile[], root: string, topN = 15, windowUs?: [number, number]): ProfileSummary {
  const self = new Map<string, number>();
  let total = 0;
  for (const p of profiles) {
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    const samples = p.samples ?? [];
    const deltas = p.timeDeltas ?? [];
    // Each sample's time is the delta to the next sample (the last one gets the average).
    let at = p.startTime;
    for (let i = 0; i < samples.length; i++) {
      at += deltas[i] ?? 0;
      if (windowUs && (at < windowUs[0] || at > windowUs[1])) continue;
      const node = byId.get(samples[i]!);
      if (!node) continue;
      const us = i + 1 < deltas.length ? deltas[i + 1]! : (p.endTime - p.startTime) / Math.max(1, samples.length);
      const key = label(node.callFrame, root);
      self.set(key, (self.get(key) ?? 0) + us / 1000);
      total += us / 1000;
    }
  }
  const idle = self.get('(idle)') ?? 0;
  const gc = self.get('(garbage collector)') ?? 0;
  const busy = total - idle;
  const top = [...self.entries()]
    .filter(([name]) => name !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, topN)
    .map(([name, ms]) => ({ name, selfMs: Math.round(ms * 10) / 10, share: busy > 0 ? ms / busy : 0 }));
  return { totalMs: total, busyMs: busy, gcMs: gc, gcShare: busy > 0 ? gc / busy : 0, top };
}

/** True when the profile ran code from a file whose path contains `fragment` (to tell threads apart). */
export function ranCodeFrom(profile: CpuProfile, fragment: string): boolean {
  return profile.nodes.some((n) => n.callFrame.url.includes(fragment));
}
