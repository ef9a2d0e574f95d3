// The room channels this host listens to: subscribed while the host has local members in the room
// or a JOIN under way (counted holds), so it receives one copy of each room message however many
// members it holds. A JOIN subscribes before its script runs, so nothing published after the
// membership exists is missed. After a reconnect ioredis subscribes again by itself.
import type { Redis } from 'ioredis';
import { channels } from './keys.ts';

interface Hold {
  count: number;
  /** The SUBSCRIBE, settled once Redis confirmed it (or failed). */
  subscribed: Promise<unknown>;
}

export class RoomChannels {
  private readonly holds = new Map<string, Hold>();
  /** Rooms whose UNSUBSCRIBE failed (Redis unreachable): retried by retryStale(). */
  private readonly stale = new Set<string>();

  constructor(private readonly sub: Redis) {}

  get size(): number {
    return this.holds.size;
  }

  /** Takes a hold on the room's channel; resolves once subscribed. Rejects (and holds nothing) on failure. */
  async hold(room: string): Promise<void> {
    let h = this.holds.get(room);
    if (!h) {
      this.stale.delete(room);
      h = { count: 0, subscribed: this.sub.subscribe(channels.room(room)) };
      this.holds.set(room, h);
    }
    h.count++;
    try {
      await h.subscribed;
    } catch (err) {
      this.drop(room); // every JOIN waiting on this SUBSCRIBE fails alike; the last one clears it
      throw err;
    }
  }

  /** Gives a hold back; the last one unsubscribes. */
  drop(room: string): void {
    const h = this.holds.get(room);
    if (!h || --h.count > 0) return;
    this.holds.delete(room);
    this.unsubscribe(room);
  }

  /** Unsubscribes the rooms whose earlier UNSUBSCRIBE failed and that nobody holds now. */
  retryStale(): void {
    for (const room of [...this.stale]) {
      if (this.holds.has(room)) this.stale.delete(room);
      else this.unsubscribe(room);
    }
  }

  private unsubscribe(room: string): void {
    this.stale.delete(room);
    this.sub.unsubscribe(channels.room(room)).catch(() => {
      if (!this.holds.has(room)) this.stale.add(room);
    });
  }
}
