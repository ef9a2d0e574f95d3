// The soak's judgement, a pure function of its samples so it can be tested on made-up series:
// after a warm-up, memory and event-loop delay must stay flat (the last third of the run against
// the first third after warm-up), and once the clients are gone the pool must hold nothing.
export interface SoakSample {
  /** Seconds since sending started (negative while clients connect). */
  t: number;
  rssBytes: number;
  heapUsedBytes: number;
  poolLiveBytes: number;
  loopDelayP99Ms: number;
  connections: number;
}

export interface SoakLimits {
  /** Fraction of the run treated as warm-up. */
  warmup: number;
  /** Allowed growth: end ≤ start × (1 + ratio) + slack. */
  rssGrowth: { ratio: number; slackBytes: number };
  heapGrowth: { ratio: number; slackBytes: number };
  loopDelay: { ratio: number; slackMs: number };
}

export const DEFAULT_SOAK_LIMITS: SoakLimits = {
  warmup: 0.25,
  rssGrowth: { ratio: 0.2, slackBytes: 32 * 2 ** 20 },
  heapGrowth: { ratio: 0.25, slackBytes: 16 * 2 ** 20 },
  loopDelay: { ratio: 1, slackMs: 50 },
};

export interface Verdict {
  ok: boolean;
  failures: string[];
  start: Partial<SoakSample>;
  end: Partial<SoakSample>;
}

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * `during`: samples taken while sending (t from 0 to durationS); `after`: samples after every
 * client disconnected; `errors`: what the load generator counted.
 */
export function judge(during: SoakSample[], after: SoakSample[], errors: Record<string, number>, durationS: number, limits = DEFAULT_SOAK_LIMITS): Verdict {
  const failures: string[] = [];
  for (const [code, n] of Object.entries(errors)) failures.push(`${n} × ${code}`);
  const from = durationS * limits.warmup;
  const third = (durationS - from) / 3;
  const early = during.filter((s) => s.t >= from && s.t < from + third);
  const late = during.filter((s) => s.t >= durationS - third);
  const mid = (xs: SoakSample[], k: keyof SoakSample) => median(xs.map((s) => s[k]));
  const start = { rssBytes: mid(early, 'rssBytes'), heapUsedBytes: mid(early, 'heapUsedBytes'), loopDelayP99Ms: mid(early, 'loopDelayP99Ms') };
  const end = { rssBytes: mid(late, 'rssBytes'), heapUsedBytes: mid(late, 'heapUsedBytes'), loopDelayP99Ms: mid(late, 'loopDelayP99Ms') };
  if (early.length === 0 || late.length === 0) failures.push('too few samples to judge growth');
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  if (end.rssBytes > start.rssBytes * (1 + limits.rssGrowth.ratio) + limits.rssGrowth.slackBytes) {
    failures.push(`RSS grew from ${mib(start.rssBytes)} to ${mib(end.rssBytes)}`);
  }
  if (end.heapUsedBytes > start.heapUsedBytes * (1 + limits.heapGrowth.ratio) + limits.heapGrowth.slackBytes) {
    failures.push(`heap grew from ${mib(start.heapUsedBytes)} to ${mib(end.heapUsedBytes)}`);
  }
  if (end.loopDelayP99Ms > start.loopDelayP99Ms * (1 + limits.loopDelay.ratio) + limits.loopDelay.slackMs) {
    failures.push(`event-loop delay p99 grew from ${start.loopDelayP99Ms.toFixed(1)} ms to ${end.loopDelayP99Ms.toFixed(1)} ms`);
  }
  const last = after.at(-1);
  if (!last) failures.push('no sample after the clients left');
  else {
    if (last.poolLiveBytes !== 0) failures.push(`${last.poolLiveBytes} pool bytes still held after every client left`);
    if (last.connections !== 0) failures.push(`${last.connections} connections still open after every client left`);
  }
  return { ok: failures.length === 0, failures, start, end };
}
