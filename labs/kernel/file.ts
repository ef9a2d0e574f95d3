// An open file description: what an fd points at. Sockets, epoll and kqueue instances and the
// standard streams are all files; the pollers only ever ask a file two things — "what is your
// readiness mask now?" (pollMask, like Linux's f_op->poll) and "tell me when it may have changed"
// (a Watcher on its wait queue, woken with a key saying which kind of event happened).
import { POLLIN, POLLOUT, POLLRDNORM, POLLWRNORM } from './constants.ts';

/** Wake keys. 0 means "state changed, anything may be different" (Linux wakes with a NULL key). */
export const WAKE_ANY = 0;
export const WAKE_IN = POLLIN | POLLRDNORM;
export const WAKE_OUT = POLLOUT | POLLWRNORM;
/**
 * Send-buffer space was freed but no writer was waiting for it. Linux only wakes EPOLLOUT waiters
 * after a writer ran out of space (SOCK_NOSPACE); FreeBSD's kqueue write filter hears every one.
 */
export const WAKE_SPACE = 1 << 27;

export interface Watcher {
  /**
   * A readiness change may have happened; `key` says what kind (see WAKE_*). Must be cheap: O(1).
   * An exclusive watcher returns true when it woke a sleeper, which ends the wake-up.
   */
  wake(key: number): boolean | void;
  /** The file is going away (its last fd closed): drop every reference to it. */
  detach(): void;
  /**
   * Linux's WQ_FLAG_EXCLUSIVE (an epoll item with EPOLLEXCLUSIVE): woken after every other watcher,
   * in the order they were added, and only until one of them returns true.
   */
  readonly exclusive?: boolean;
}

export type FileKind = 'socket' | 'epoll' | 'kqueue' | 'stdstream';

export abstract class KFile {
  abstract readonly kind: FileKind;
  /** Open file status flags (O_NONBLOCK lives here, shared by dup'ed fds as in POSIX). */
  flags = 0;
  /** How many fds (in any process) refer to this open file description. */
  refs = 0;
  private watchers: Watcher[] | null = null;

  abstract pollMask(): number;

  /** Whether epoll may watch this file (Linux: only files with a poll method; EPERM otherwise). */
  get pollable(): boolean {
    return true;
  }

  addWatcher(w: Watcher): void {
    (this.watchers ??= []).push(w);
  }

  removeWatcher(w: Watcher): void {
    if (!this.watchers) return;
    const i = this.watchers.indexOf(w);
    if (i >= 0) this.watchers.splice(i, 1);
    if (this.watchers.length === 0) this.watchers = null;
  }

  /**
   * Wakes everyone waiting on this file — except that of the exclusive watchers, only as many are
   * woken as it takes to wake one sleeper (Linux's __wake_up_common with nr_exclusive = 1).
   */
  notify(key: number): void {
    if (!this.watchers) return;
    // A watcher may remove itself while being woken: iterate over a copy.
    const watchers = this.watchers.slice();
    for (const w of watchers) if (!w.exclusive) w.wake(key);
    for (const w of watchers) if (w.exclusive && w.wake(key) === true) break;
  }

  /** Called when the last fd closes: every interest list forgets this file, then the file cleans up. */
  release(): void {
    const ws = this.watchers;
    this.watchers = null;
    if (ws) for (const w of ws) w.detach();
    this.onRelease();
  }

  protected onRelease(): void {}
}

/**
 * fds 0, 1, 2. They behave like /dev/null: reads return 0, writes swallow everything, poll says
 * "always ready" (the kernel's DEFAULT_POLLMASK) and epoll refuses them with EPERM, as Linux does
 * for a file without a poll method.
 */
export class StdStream extends KFile {
  readonly kind = 'stdstream';
  pollMask(): number {
    return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
  }
  override get pollable(): boolean {
    return false;
  }
}
