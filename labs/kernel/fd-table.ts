// The per-process descriptor table: fd numbers → open files. New fds take the lowest free number
// (POSIX requires it, and servers that reuse a slot array rely on it), and RLIMIT_NOFILE caps them.
import { EBADF, EINVAL, EMFILE, EPERM } from './constants.ts';
import type { KFile } from './file.ts';

export interface Rlimit {
  soft: number;
  hard: number;
}

export class FdTable {
  private files: Array<KFile | undefined> = [];
  /** Freed numbers below files.length, as a min-heap: finding the lowest free fd is O(log n). */
  private freeHeap: number[] = [];
  private openCount = 0;
  limit: Rlimit;

  constructor(limit: Rlimit) {
    this.limit = { ...limit };
  }

  get(fd: number): KFile | undefined {
    return Number.isInteger(fd) && fd >= 0 ? this.files[fd] : undefined;
  }

  /** Installs `file` at the lowest free fd; -EMFILE when that number would reach the soft limit. */
  install(file: KFile): number {
    const fd = this.freeHeap.length > 0 ? this.freeHeap[0]! : this.files.length;
    if (fd >= this.limit.soft) return -EMFILE;
    if (this.freeHeap.length > 0) heapPop(this.freeHeap);
    this.files[fd] = file;
    file.refs++;
    this.openCount++;
    return fd;
  }

  /** Whether install() would succeed. */
  hasFreeSlot(): boolean {
    return (this.freeHeap.length > 0 ? this.freeHeap[0]! : this.files.length) < this.limit.soft;
  }

  /** Removes fd from the table; returns the file (its last reference may now be gone) or -EBADF. */
  remove(fd: number): KFile | number {
    const file = this.get(fd);
    if (!file) return -EBADF;
    this.files[fd] = undefined;
    this.openCount--;
    if (fd === this.files.length - 1) {
      // Shrink past trailing holes so `files.length` stays the next never-used number.
      this.files.length--;
      while (this.files.length > 0 && this.files[this.files.length - 1] === undefined) this.files.length--;
      this.freeHeap = this.freeHeap.filter((n) => n < this.files.length);
      heapify(this.freeHeap);
    } else {
      heapPush(this.freeHeap, fd);
    }
    file.refs--;
    return file;
  }

  setLimit(next: Rlimit): number {
    if (!(next.soft >= 0 && next.hard >= 0) || next.soft > next.hard) return -EINVAL;
    if (next.hard > this.limit.hard) return -EPERM; // raising the hard limit needs CAP_SYS_RESOURCE
    this.limit = { ...next };
    return 0;
  }

  list(): number[] {
    const out: number[] = [];
    this.files.forEach((f, fd) => f && out.push(fd));
    return out;
  }

  get count(): number {
    return this.openCount;
  }
}

function heapPush(h: number[], v: number): void {
  h.push(v);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p]! <= v) break;
    h[i] = h[p]!;
    i = p;
  }
  h[i] = v;
}

function heapPop(h: number[]): void {
  const last = h.pop()!;
  if (h.length === 0) return;
  h[0] = last;
  siftDown(h, 0);
}

function siftDown(h: number[], i: number): void {
  const v = h[i]!;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= h.length) break;
    if (c + 1 < h.length && h[c + 1]! < h[c]!) c++;
    if (h[c]! >= v) break;
    h[i] = h[c]!;
    i = c;
  }
  h[i] = v;
}

function heapify(h: number[]): void {
  for (let i = (h.length >> 1) - 1; i >= 0; i--) siftDown(h, i);
}
