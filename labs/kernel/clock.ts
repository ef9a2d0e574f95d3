// Time for the emulated kernel. 'virtual' time only moves when a grader asks (advance/until), so a
// timeout of 5 s costs nothing and every run replays identically; 'real' time follows the wall
// clock for runnable demos and the TCP bridge.

export interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
  handle?: ReturnType<typeof setTimeout>;
}

export class Clock {
  private virtualNow = 0;
  private readonly realStart = performance.now();
  private heap: Timer[] = [];
  private seq = 0;

  constructor(readonly mode: 'virtual' | 'real') {}

  now(): number {
    return this.mode === 'virtual' ? this.virtualNow : performance.now() - this.realStart;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const t: Timer = { at: this.now() + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    if (this.mode === 'real') t.handle = setTimeout(() => !t.cancelled && fn(), Math.max(0, ms));
    else push(this.heap, t);
    return t;
  }

  cancel(t: Timer): void {
    t.cancelled = true;
    if (t.handle) clearTimeout(t.handle);
  }

  /** Virtual clock: when the next pending timer fires, or undefined if none is pending. */
  nextTimerAt(): number | undefined {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) pop(this.heap);
    return this.heap[0]?.at;
  }

  /** Virtual clock: moves time to the earliest timer (if due by `limit`) and fires it. */
  fireNext(limit: number): boolean {
    const at = this.nextTimerAt();
    if (at === undefined || at > limit) return false;
    const t = pop(this.heap)!;
    this.virtualNow = Math.max(this.virtualNow, t.at);
    t.fn();
    return true;
  }

  /** Virtual clock: sets the time (never backwards). */
  moveTo(ms: number): void {
    this.virtualNow = Math.max(this.virtualNow, ms);
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

function push(h: Timer[], t: Timer): void {
  h.push(t);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!before(t, h[p]!)) break;
    h[i] = h[p]!;
    i = p;
  }
  h[i] = t;
}

function pop(h: Timer[]): Timer | undefined {
  const top = h[0];
  const last = h.pop();
  if (h.length === 0 || !last) return top;
  let i = 0;
  for (;;) {
    let c = 2 * i + 1;
    if (c >= h.length) break;
    if (c + 1 < h.length && before(h[c + 1]!, h[c]!)) c++;
    if (!before(h[c]!, last)) break;
    h[i] = h[c]!;
    i = c;
  }
  h[i] = last;
  return top;
}
