// What a supervisor (the soak script) samples from a running server: memory, event-loop delay and
// pool use of every process. The primary answers {ctl: 'sample'} on its own IPC channel — present
// only when a parent started it with child_process.fork — by asking each reactor.
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface ProcessStats {
  pid: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** Event-loop delay since the previous sample. */
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

export interface ReactorStats extends ProcessStats {
  connections: number;
  /** Bytes of encoded frames not yet written to every recipient. */
  poolLiveBytes: number;
  /** Retired slabs still held by a waiting frame. */
  poolSlabsPinned: number;
}

export interface ServerStats {
  primary: ProcessStats & { dbPending: number; online: number };
  reactors: ReactorStats[];
}

export class LoopDelay {
  private readonly h: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 });

  constructor() {
    this.h.enable();
  }

  /** This process's numbers, the delay since the previous call. */
  sample(): ProcessStats {
    const mem = process.memoryUsage();
    const ms = (ns: number) => (Number.isFinite(ns) ? ns / 1e6 : 0);
    const stats = {
      pid: process.pid,
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      loopDelayP99Ms: ms(this.h.percentile(99)),
      loopDelayMaxMs: ms(this.h.max),
    };
    this.h.reset();
    return stats;
  }
}
