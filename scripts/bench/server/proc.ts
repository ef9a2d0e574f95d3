// What the server's processes cost, read from /proc (Linux): CPU seconds (utime + stime of every
// thread, summed over the process tree: the primary with its database thread, and every reactor)
// and resident memory (VmRSS summed over the tree). The load generator runs in other processes, so
// none of its work is counted here.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

let ticks: number | null = null;
/** Clock ticks per second of /proc/<pid>/stat times (sysconf CLK_TCK; 100 nearly everywhere). */
export function clockTicks(): number {
  if (ticks === null) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

export interface Stat {
  pid: number;
  ppid: number;
  /** utime + stime, in clock ticks (all threads of the process). */
  cpuTicks: number;
}

/** Parses /proc/<pid>/stat; the command name may contain spaces and parentheses, so split after the last ")". */
export function parseStat(text: string): Stat {
  const close = text.lastIndexOf(')');
  const pid = Number(text.slice(0, text.indexOf(' ')));
  // Fields after ")": state(3) ppid(4) … utime(14) stime(15), numbered from 1 as in proc(5).
  const rest = text.slice(close + 2).split(' ');
  return { pid, ppid: Number(rest[1]), cpuTicks: Number(rest[11]) + Number(rest[12]) };
}

function readStat(pid: number): Stat | null {
  try {
    return parseStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null; // gone
  }
}

/** `root` and every process descended from it, alive now. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s.pid]);
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return out;
}

/** CPU seconds used so far by these processes (each one's whole life; subtract two readings). */
export function cpuSeconds(pids: number[]): number {
  let t = 0;
  for (const pid of pids) t += readStat(pid)?.cpuTicks ?? 0;
  return t / clockTicks();
}

/** CPU seconds per process, to subtract a start reading from an end reading pid by pid. */
export function cpuByPid(pids: number[]): Map<number, number> {
  return new Map(pids.map((pid) => [pid, (readStat(pid)?.cpuTicks ?? 0) / clockTicks()]));
}

/**
 * Kernel CPU seconds (stime alone) per process: with cpuByPid it splits a window's CPU into the
 * server's own work and the system calls it made — a CPU profile cannot, since it also samples a
 * thread while it waits to be scheduled again.
 */
export function systemCpuByPid(pids: number[]): Map<number, number> {
  return new Map(
    pids.map((pid) => {
      try {
        const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        return [pid, Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[12]) / clockTicks()];
      } catch {
        return [pid, 0];
      }
    }),
  );
}

/** Sum over pids of end − start (a process that appeared in between counts from 0). */
export function cpuBetween(start: Map<number, number>, end: Map<number, number>): number {
  let t = 0;
  for (const [pid, s] of end) t += s - (start.get(pid) ?? 0);
  return t;
}

export function parseVmRss(statusText: string): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(statusText);
  return m ? Number(m[1]) * 1024 : 0;
}

/** Resident bytes of these processes together. */
export function rssBytes(pids: number[]): number {
  let b = 0;
  for (const pid of pids) {
    try {
      b += parseVmRss(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    } catch {
      // gone
    }
  }
  return b;
}

/** Samples the tree's RSS every `everyMs` until stopped; peak() is the largest sum seen. */
export class RssSampler {
  private max = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly root: number, everyMs = 250) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): number {
    const now = rssBytes(processTree(this.root));
    if (now > this.max) this.max = now;
    return now;
  }

  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.max;
  }
}

/** The 1-minute load average and what it means on this many cores, for the record. */
export function loadAverage(): number {
  try {
    return Number(fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}
