// ANSI colour only for a terminal, honouring NO_COLOR / FORCE_COLOR.
const on =
  process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0'
    ? true
    : !process.env.NO_COLOR && !!process.stdout.isTTY && process.env.TERM !== 'dumb';

const wrap = (code: number, end = 39) => (s: string) => (on ? `\x1b[${code}m${s}\x1b[${end}m` : s);
export const c = {
  red: wrap(31),
  green: wrap(32),
  yellow: wrap(33),
  cyan: wrap(36),
  dim: wrap(2, 22),
  bold: wrap(1, 22),
};

/** Length of a string as it shows on screen (without colour codes). */
export function visibleLength(s: string): number {
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}

export function pad(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - visibleLength(s)));
}
