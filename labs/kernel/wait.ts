// How a waiting call (select, poll, epoll_wait, kevent, the blocking data calls) sleeps: it makes one
// pass; if nothing is ready it hangs a watcher on the wait queue of every file it cares about, and
// each wake-up runs another pass — exactly the shape of Linux's do_poll()/ep_poll(). The timeout is
// a timer on the kernel's clock; when it fires, one last pass runs and its result (maybe empty) is returned.
import type { Clock, Timer } from './clock.ts';
import type { KFile, Watcher } from './file.ts';

export interface WaitSpec<T> {
  clock: Clock;
  /** Called whenever the sleeping call makes progress, so `settle()` knows the kernel is busy. */
  onActivity: () => void;
  /** null = forever, 0 = never sleep. */
  timeoutMs: number | null;
  /** One pass over whatever the call watches; null when nothing is ready yet. */
  pass: () => T | null;
  /** What the call returns when the timeout expires with nothing ready. */
  empty: () => T;
  /** The files whose wait queues to sleep on. */
  files: () => Iterable<KFile>;
  /** Told true each time the call goes (back) to sleep after a pass found nothing, false when it returns. */
  asleep?: (sleeping: boolean) => void;
}

export function sleepUntilReady<T>(spec: WaitSpec<T>): Promise<T> {
  const first = spec.pass();
  if (first !== null) return Promise.resolve(first);
  if (spec.timeoutMs === 0) return Promise.resolve(spec.empty());
  return new Promise<T>((resolve) => {
    let done = false;
    let scheduled = false;
    let timer: Timer | null = null;
    const watched: KFile[] = [];
    const finish = (result: T) => {
      done = true;
      spec.asleep?.(false);
      for (const f of watched) f.removeWatcher(watcher);
      if (timer) spec.clock.cancel(timer);
      spec.onActivity();
      resolve(result);
    };
    const rescan = () => {
      scheduled = false;
      if (done) return;
      spec.onActivity();
      const r = spec.pass();
      if (r !== null) finish(r);
      else spec.asleep?.(true);
    };
    // Wake-ups are coalesced into one pass per microtask turn, like one trip through the scheduler.
    const schedule = () => {
      if (done || scheduled) return;
      scheduled = true;
      queueMicrotask(rescan);
    };
    const watcher: Watcher = { wake: schedule, detach: schedule };
    for (const f of spec.files()) {
      f.addWatcher(watcher);
      watched.push(f);
    }
    spec.asleep?.(true);
    if (spec.timeoutMs !== null) {
      timer = spec.clock.setTimer(spec.timeoutMs, () => {
        if (done) return;
        finish(spec.pass() ?? spec.empty());
      });
    }
  });
}
