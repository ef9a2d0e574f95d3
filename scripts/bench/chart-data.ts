// Shared by every bench script: print a table for the terminal and write the JSON the docs chart.
// Each JSON file says what machine produced it, when, and the command that reproduces it, so no
// chart on the site is ever a number someone typed in.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Series {
  name: string;
  /** [x, y] pairs, x ascending. */
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
  /** The same numbers as the printed table, for a table under the chart. */
  table?: { columns: string[]; rows: Array<Array<string | number>> };
}

const dataDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../docs/data');

export function describeMachine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${cpu}, ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}, Node ${process.version}`;
}

/** Writes docs/data/<name>.json and returns its path. */
export function writeChartData(name: string, data: Omit<ChartData, 'machine' | 'date'>): string {
  const file = path.join(dataDir, `${name}.json`);
  fs.mkdirSync(dataDir, { recursive: true });
  const full: ChartData = { ...data, machine: describeMachine(), date: new Date().toISOString() };
  fs.writeFileSync(file, JSON.stringify(full, null, 2) + '\n');
  return file;
}

/** Prints rows as an aligned text table (numbers right-aligned). */
export function printTable(columns: string[], rows: Array<Array<string | number>>): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)));
  const widths = columns.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r.map((c, i) => (typeof rows[0]?.[i] === 'number' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  console.log(line(columns));
  console.log(widths.map((w) => '─'.repeat(w)).join('  '));
  for (const r of cells) console.log(line(r));
}

function formatNumber(n: number): string {
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  return n < 10 ? n.toFixed(3) : n.toFixed(1);
}
