// The shape of docs/data/<name>.json is defined once, beside the writer. A type-only export is
// erased at build time, so the browser bundle never pulls in that Node module.
export type { Axis, Chart, ChartData, Series } from '../../../../scripts/bench/chart-data.ts';

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${trim(n / 1e9)}G`;
  if (abs >= 1e6) return `${trim(n / 1e6)}M`;
  if (abs >= 1e4) return `${trim(n / 1e3)}k`;
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 1) return trim(n);
  return n.toPrecision(2);
}

function trim(n: number): string {
  const s = n.toFixed(Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2);
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}
