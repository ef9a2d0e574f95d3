// The open-file limit a server with many connections needs. Node cannot call setrlimit, but on
// POSIX Node itself raises the soft RLIMIT_NOFILE to the hard limit while it starts (node.cc,
// PlatformInit), and forked reactors inherit it. We read the result from /proc/self/limits; if the
// soft limit is still below the hard one (another runtime, an odd platform) we raise it with
// util-linux `prlimit --pid <self>` when that tool exists. What cannot be raised is reported with
// the command an operator needs.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export interface FileLimit {
  soft: number;
  hard: number;
  /** How the soft limit got where it is. */
  how: 'at the hard limit' | 'raised with prlimit' | 'could not be raised' | 'unknown';
}

/** Parses the "Max open files" line of /proc/<pid>/limits; null if absent. */
export function parseProcLimits(text: string): { soft: number; hard: number } | null {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!m) return null;
  const num = (s: string) => (s === 'unlimited' ? Number.POSITIVE_INFINITY : Number(s));
  return { soft: num(m[1]!), hard: num(m[2]!) };
}

function read(): { soft: number; hard: number } | null {
  try {
    return parseProcLimits(fs.readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return null;
  }
}

export function raiseFileLimit(): FileLimit {
  const before = read();
  if (!before) return { soft: NaN, hard: NaN, how: 'unknown' };
  if (before.soft >= before.hard) return { ...before, how: 'at the hard limit' };
  try {
    const hard = Number.isFinite(before.hard) ? String(before.hard) : 'unlimited';
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${hard}:${hard}`], { stdio: 'ignore', timeout: 2_000 });
  } catch {
    return { ...before, how: 'could not be raised' };
  }
  const after = read() ?? before;
  return { ...after, how: after.soft > before.soft ? 'raised with prlimit' : 'could not be raised' };
}

/** One line for the start-up log; a warning when the limit is too low for `connections`. */
export function describeFileLimit(limit: FileLimit, connections: number): string {
  if (limit.how === 'unknown') return `open files: limit unknown on this platform; ${connections} connections need at least ${connections + 64} (ulimit -n)`;
  const shown = (n: number) => (Number.isFinite(n) ? String(n) : 'unlimited');
  const line = `open files: soft limit ${shown(limit.soft)}, hard ${shown(limit.hard)} (${limit.how}; inherited by the reactors)`;
  // Each reactor holds its own sockets, and a reactor may hold every connection; plus a little
  // headroom for the database, IPC pipes and stdio.
  const needed = connections + 64;
  if (limit.soft >= needed) return line;
  return `${line} — WARNING: ${connections} connections need ${needed}; raise the hard limit (ulimit -Hn, or LimitNOFILE= in a systemd unit) or lower --max-connections; until then a reactor refuses what its limit has no room for (server_full)`;
}

/** Descriptors this process has open now (Linux: /proc/self/fd); NaN where that is not readable. */
export function openFileCount(): number {
  try {
    return fs.readdirSync('/proc/self/fd').length - 1; // minus the directory readdir itself opened
  } catch {
    return NaN;
  }
}

/** Descriptors kept free for what a reactor opens besides sockets (IPC, the loop's own, stdio, files). */
export const FD_HEADROOM = 64;

/**
 * How many client sockets one process may hold: its soft limit, minus what it has open now, minus
 * FD_HEADROOM. A reactor must stay below this. Past it, the descriptor of a connection the primary
 * hands over is dropped by the kernel (recvmsg sets MSG_CTRUNC), Node's cluster never hears the
 * reactor's answer, and from then on hands that reactor no connection at all — they pile up
 * accepted and unanswered in the primary. Infinity when the limit is not known.
 */
export function socketBudget(soft = read()?.soft ?? NaN, open = openFileCount()): number {
  if (!Number.isFinite(soft) || !Number.isFinite(open)) return Number.POSITIVE_INFINITY;
  return Math.max(0, soft - open - FD_HEADROOM);
}
