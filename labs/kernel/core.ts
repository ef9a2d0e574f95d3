// What the poller modules need from a process, so each mechanism's file depends on this little
// interface rather than on the whole Process class.
import type { Clock } from './clock.ts';
import type { FdTable } from './fd-table.ts';
import type { Meter } from './meter.ts';

export interface ProcessCore {
  readonly fds: FdTable;
  readonly meter: Meter;
  readonly clock: Clock;
  /** Tells the kernel something happened (settle() waits until nothing does). */
  activity(): void;
}
