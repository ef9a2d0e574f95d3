// poll(2): an array of { fd, events, revents } instead of bitmaps — no 1024 wall, but each pass
// still looks at every entry, so the work grows with how many fds are watched, busy or not.
import { EINVAL, POLLERR, POLLHUP, POLLNVAL } from './constants.ts';
import { pollCost } from './cost-model.ts';
import type { ProcessCore } from './core.ts';
import type { KFile } from './file.ts';
import { sleepUntilReady } from './wait.ts';

export interface PollFd {
  fd: number;
  events: number;
  revents: number;
}

export async function poll(proc: ProcessCore, fds: PollFd[], timeoutMs: number | null): Promise<number> {
  proc.activity();
  if (fds.length > proc.fds.limit.soft) return -EINVAL; // Linux: nfds above RLIMIT_NOFILE
  // poll(2): a negative timeout means "forever".
  const timeout = timeoutMs === null || timeoutMs < 0 ? null : timeoutMs;
  const requests = fds.map((p) => ({ fd: p.fd, events: p.events })); // copied in
  const revents = new Array<number>(requests.length).fill(0);
  let firstPass = true;
  const pass = (): number | null => {
    const cost = pollCost(requests.length);
    proc.meter.charge('poll', firstPass ? cost : { calls: 0, fdsInspected: requests.length, bytesCopied: 0 });
    firstPass = false;
    let count = 0;
    for (let i = 0; i < requests.length; i++) {
      const { fd, events } = requests[i]!;
      let r = 0;
      if (fd >= 0) {
        const file = proc.fds.get(fd);
        // POLLERR and POLLHUP are always reported, whether asked for or not.
        r = file ? file.pollMask() & (events | POLLERR | POLLHUP) : POLLNVAL;
      }
      revents[i] = r;
      if (r) count++;
    }
    return count > 0 ? count : null;
  };
  const files = function* (): Iterable<KFile> {
    for (const { fd } of requests) {
      const f = fd >= 0 ? proc.fds.get(fd) : undefined;
      if (f) yield f;
    }
  };
  const count = await sleepUntilReady({
    clock: proc.clock,
    onActivity: () => proc.activity(),
    timeoutMs: timeout,
    pass,
    empty: () => 0,
    files,
  });
  fds.forEach((p, i) => (p.revents = count > 0 ? revents[i]! : 0));
  return count;
}
