// The admission gate for password hashing. One scrypt at the OWASP cost takes ~0.3 s of a core and
// 128 MiB; libuv runs them on its shared pool (4 threads by default) first come, first served, so
// 40 connections hashing from one address used to make everybody else's LOGIN wait behind them.
// Here at most `concurrency` hashes run at once per process, the rest wait in a bounded queue, and
// the waiting ones are served round-robin across client addresses (one FIFO per address, with a
// cap): a flood from one address lengthens that address's own wait, and anybody else waits for at
// most one hash per other waiting address. When the whole queue is full, a newcomer takes the
// place of the newest hash of the address that has the most waiting (that one is refused), so
// floods from a few addresses cannot keep everybody else out. Beyond the caps: `rate_limited` at
// once, saying how long to wait — never an unbounded wait.
import os from 'node:os';
import { WizzError } from '../protocol/codes.ts';

export interface HashGateOptions {
  /** Hashes running at once (≤ the libuv pool size, leaving threads for the rest of the process). */
  concurrency: number;
  /** Hashes waiting, all addresses together. */
  maxQueued: number;
  /** Hashes waiting from one address. */
  maxQueuedPerAddress: number;
}

/**
 * Hashes one reactor runs at once: its share of the cores (cores ÷ reactors, at least 1), and
 * never all of libuv's thread pool (4 threads unless UV_THREADPOOL_SIZE says otherwise), which the
 * process also needs for dns.lookup and fs. More would not hash faster — scrypt is pure CPU — only
 * make every hash slower (a LOGIN waits behind the ones that share its core) and hold more 128 MiB
 * buffers. Measured here (2 cores shared with other work, load average ~15, full-cost scrypt taking
 * ~1.9 s, a 40-connection REGISTER flood from another address): a LOGIN took ~6 s either way with 1
 * or 2 at once — about 2 hashes waiting (the one running, then at most one of the flood's turn) and
 * its own — where a first-come pool made it wait behind the whole flood.
 */
export function hashConcurrencyFor(reactors: number, cores = os.availableParallelism(), poolSize = Number(process.env.UV_THREADPOOL_SIZE) || 4): number {
  return Math.max(1, Math.min(poolSize - 1, Math.floor(cores / Math.max(1, reactors))));
}

/**
 * One reactor alone on the machine; 64 waiting at ~0.3 s a hash: seconds, not minutes, in the
 * queue. 16 per address: a household or an office behind one NAT logging in together.
 */
export const DEFAULT_HASH_GATE: HashGateOptions = { concurrency: hashConcurrencyFor(1), maxQueued: 64, maxQueuedPerAddress: 16 };

interface Waiter {
  start(): void;
  /** False when whoever asked has gone (its connection closed): skipped, never run. */
  wanted(): boolean;
  cancel(): void;
  /** Evicted for a newcomer from a less busy address. */
  refuse(): void;
}

export class HashGate {
  private running = 0;
  private queued = 0;
  /** Addresses with waiting hashes, in turn order: the first is served next, then goes to the back. */
  private readonly queues = new Map<string, Waiter[]>();
  /** Recent cost of one hash, for the "retry in" estimate. */
  private hashMs = 300;

  constructor(private readonly options: HashGateOptions = DEFAULT_HASH_GATE) {}

  /** Hashes running and waiting now. */
  get stats(): { running: number; queued: number; addresses: number } {
    return { running: this.running, queued: this.queued, addresses: this.queues.size };
  }

  /**
   * Runs `job` when its turn comes. Rejects with rate_limited when the queue (or this address's
   * share of it) is full, and with unavailable when `wanted()` turned false while it waited.
   */
  run<T>(address: string, job: () => Promise<T>, wanted: () => boolean = () => true): Promise<T> {
    if (this.running < this.options.concurrency && this.queued === 0) return this.execute(job);
    const mine = this.queues.get(address);
    const waiting = mine?.length ?? 0;
    if (waiting >= this.options.maxQueuedPerAddress || (this.queued >= this.options.maxQueued && !this.evictFor(waiting))) {
      return Promise.reject(this.busy());
    }
    return new Promise<T>((resolve, reject) => {
      const waiter: Waiter = {
        start: () => this.execute(job).then(resolve, reject),
        wanted,
        cancel: () => reject(new WizzError('unavailable', 'the connection closed while its password waited to be checked')),
        refuse: () => reject(this.busy()),
      };
      if (mine) mine.push(waiter);
      else this.queues.set(address, [waiter]);
      this.queued++;
    });
  }

  /** Seconds until a hash asked for now would likely run: the queue ahead of it, `concurrency` at a time. */
  retryInS(): number {
    return Math.max(1, Math.ceil((((this.queued + this.running) / this.options.concurrency) * this.hashMs) / 1000));
  }

  private busy(): WizzError {
    return new WizzError('rate_limited', `server busy hashing passwords; retry in ${this.retryInS()} s`);
  }

  /**
   * The queue is full: refuses the newest hash of the address with the most waiting, if it has at
   * least two more than the newcomer's address (so shares even out, never swap back and forth).
   */
  private evictFor(newcomerWaiting: number): boolean {
    let longest: Waiter[] | null = null;
    let longestAddress = '';
    for (const [address, waiters] of this.queues) {
      if (!longest || waiters.length > longest.length) {
        longest = waiters;
        longestAddress = address;
      }
    }
    if (!longest || longest.length < newcomerWaiting + 2) return false;
    longest.pop()!.refuse();
    this.queued--;
    if (longest.length === 0) this.queues.delete(longestAddress);
    return true;
  }

  private async execute<T>(job: () => Promise<T>): Promise<T> {
    this.running++;
    const started = performance.now();
    try {
      return await job();
    } finally {
      this.hashMs = 0.8 * this.hashMs + 0.2 * (performance.now() - started);
      this.running--;
      this.next();
    }
  }

  /** Starts the next wanted hash, taking addresses in turn. */
  private next(): void {
    while (this.running < this.options.concurrency && this.queued > 0) {
      const [address, waiters] = this.queues.entries().next().value as [string, Waiter[]];
      const waiter = waiters.shift()!;
      this.queued--;
      this.queues.delete(address);
      if (waiters.length > 0) this.queues.set(address, waiters); // to the back of the line
      if (waiter.wanted()) waiter.start();
      else waiter.cancel();
    }
  }
}
