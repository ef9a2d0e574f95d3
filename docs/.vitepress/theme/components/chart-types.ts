// The shape of docs/data/<name>.json, as scripts/bench/chart-data.ts writes it (kept in sync by hand:
// the components cannot import a Node module).
export interface Series {
  name: string;
  points: Array<[number, number]>;
}
export interface Axis {
  label: string;
  scale?: 'linear' | 'log';
}
export interface Chart {
  id: string;
  title: string;
  x: Axis;
  y: Axis;
  series: Series[];
}
export interface ChartData {
  command: string;
  machine: string;
  date: string;
  notes?: string;
  charts: Chart[];
  table?: { columns: string[]; rows: Array<Array<string | number>> };
}

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
