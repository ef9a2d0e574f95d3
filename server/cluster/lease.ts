// Presence leases. Each host refreshes its lease key (PX leaseMs) every leaseMs/3, so two missed
// beats still leave it alive; every host checks the others about every leaseMs/2 and the first to
// see an expired lease reaps that host in one script (REAP). A beat that finds its own lease gone
// means this host was taken for dead (Redis restarted empty, or it stalled past its lease): it must
// re-register what it holds. Timers are unref'd: they never keep the process alive.
import type { Redis } from 'ioredis';
import { HEARTBEAT, REAP } from './scripts.ts';

/** Users reaped per script call: a reap of a huge host runs in slices, never one long script. */
const REAP_BUDGET = 2_000;

export interface LeaseEvents {
  /**
   * A beat renewed the lease. `existed` false: it had expired (or Redis lost it) before this beat.
   * `online`: users online on every host. `reaped`: the marker a reaper left when it took this
   * host's users offline ('' if none) — then the host must re-register, even though its lease is
   * back (a heartbeat queued during a stall may have renewed it without anyone hearing the answer).
   */
  renewed(existed: boolean, online: number, reaped: string): void;
  reaped(node: string, users: number): void;
  failed(what: string, err: Error): void;
}

export class Lease {
  private timers: NodeJS.Timeout[] = [];
  private beating = false;
  private reaping = false;
  /** Redis's clock minus ours (ms), from the heartbeat with the shortest round trip lately. */
  private offsetMs = 0;
  private bestRttMs = Number.POSITIVE_INFINITY;

  constructor(
    private readonly redis: Redis,
    private readonly nodeId: string,
    readonly leaseMs: number,
    private readonly on: LeaseEvents,
  ) {}

  start(): void {
    this.stop();
    const every = (ms: number, fn: () => Promise<void>) => {
      const t = setInterval(() => void fn(), Math.max(10, Math.floor(ms)));
      t.unref();
      this.timers.push(t);
    };
    every(this.leaseMs / 3, () => this.beat().then(() => {}, () => {}));
    every(this.leaseMs / 2, () => this.reap());
  }

  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
  }

  /** Renews the lease; resolves with whether it was still there. Rejects when Redis is unreachable. */
  async beat(): Promise<boolean> {
    if (this.beating) return true; // a beat is in flight: it will report
    this.beating = true;
    try {
      const sent = Date.now();
      const [existed, online, reaped, redisMs] = (await HEARTBEAT.run(this.redis, [this.nodeId, this.leaseMs])) as [number, number, string, string];
      this.sawClock(sent, Date.now(), Number(redisMs));
      this.on.renewed(existed === 1, online, reaped);
      return existed === 1;
    } catch (err) {
      this.on.failed('heartbeat', err as Error);
      throw err;
    } finally {
      this.beating = false;
    }
  }

  /** Reaps hosts whose lease expired, in slices of REAP_BUDGET users. */
  async reap(): Promise<void> {
    if (this.reaping) return;
    this.reaping = true;
    try {
      for (let slice = 0; slice < 100; slice++) {
        const out = (await REAP.run(this.redis, [this.nodeId, REAP_BUDGET, this.leaseMs])) as Array<string | number>;
        let more = false;
        for (let i = 0; i + 2 < out.length; i += 3) {
          this.on.reaped(String(out[i]), Number(out[i + 1]));
          if (Number(out[i + 2]) > 0) more = true;
        }
        if (!more) return;
      }
    } catch (err) {
      this.on.failed('reap', err as Error);
    } finally {
      this.reaping = false;
    }
  }

  /** Now on Redis's clock (ms): deadlines the scripts check are on that clock, whatever ours says. */
  redisNow(): number {
    return Date.now() + this.offsetMs;
  }

  /**
   * One sample of the clocks' offset: Redis read its clock somewhere within the round trip, so the
   * shortest round trip seen gives the best estimate. Old estimates fade (the best RTT grows a
   * little per sample) so that a drifting clock is followed.
   */
  private sawClock(sent: number, received: number, redisMs: number): void {
    if (!Number.isFinite(redisMs)) return;
    const rtt = received - sent;
    this.bestRttMs += 1;
    if (rtt > this.bestRttMs) return;
    this.bestRttMs = rtt;
    this.offsetMs = redisMs - (sent + rtt / 2);
  }
}
