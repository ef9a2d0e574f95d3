// The recorded history of one chaos run: everything the clients did and saw, and every fault, with
// a time. Jepsen's shape: a request is an `invoke`; its outcome is the `reply` frame (OK = ok,
// ERROR = fail) or, when its connection closed before any reply came, unknown (`info`) — the
// checker works that out from the `closed` event, and then allows both outcomes. Faults are data
// here too (`nemesis`), so a story can say what was broken when.
import type { Frame } from '../protocol/frame.ts';

export type Id = string | number;
/** How a request left the client: normally, followed at once by a close (a drop mid-request), or by a half-close. */
export type How = 'normal' | 'drop' | 'halfclose';

export type HistoryEvent =
  /** A connection opened (slot: the logical client; -1 for the checker's own final reads). */
  | { kind: 'open'; t: number; conn: number; slot: number; host: number }
  /** A connection could not be opened (the server was down): no request went out. */
  | { kind: 'refused'; t: number; slot: number; host: number; error: string }
  | { kind: 'invoke'; t: number; conn: number; type: number; body: Record<string, unknown>; how: How }
  /** OK or ERROR with `re`: the reply to a request. */
  | { kind: 'reply'; t: number; conn: number; frame: Frame }
  /** Everything else the server sent: MESSAGE, ROOM, PRESENCE, WIZZED, ERROR without `re`. */
  | { kind: 'push'; t: number; conn: number; frame: Frame }
  /** The client stopped or resumed reading this connection (a slow reader). */
  | { kind: 'reading'; t: number; conn: number; paused: boolean }
  /** The client closed (end: a half-close; destroy: a drop) — frames written after may be lost to it. */
  | { kind: 'hangup'; t: number; conn: number; how: 'end' | 'destroy' }
  /** The socket is gone, by either side. */
  | { kind: 'closed'; t: number; conn: number }
  | { kind: 'nemesis'; t: number; fault: string; phase: 'start' | 'end'; detail: string }
  /** Phases of the run: faults healed, quiescence reached, final reads begin. */
  | { kind: 'mark'; t: number; what: string };

/** A direct message as HISTORY returns it. */
export interface StoredMessage {
  msgId: number;
  from: string;
  to: string;
  text: string;
  ts: number;
}

/** What the checker's own connections read after the faults were healed and the system was quiet. */
export interface FinalReads {
  /** WHO (run users only) from each host, in host order; null when it could not be read. */
  who: Array<string[] | null>;
  /** Every stored DM between the run's users (HISTORY of every pair, paged to the end, from both sides). */
  stored: StoredMessage[];
  /** HISTORY of one pair read from the two sides (or two hosts) differed: their descriptions. */
  disagreements: string[];
  /** Final reads that could not be made (a request that failed): the checker skips what depends on them. */
  problems: string[];
}

export interface History {
  /** Date.now() when the run began: event times are milliseconds after it. */
  startedAt: number;
  /** The run's user names (index = the plan's user index). */
  users: string[];
  hosts: number;
  events: HistoryEvent[];
  final: FinalReads;
}

/** Collects events with times relative to the start of the run. */
export class Recorder {
  readonly events: HistoryEvent[] = [];
  readonly startedAt = Date.now();
  private readonly t0 = performance.now();
  now(): number {
    return Math.round((performance.now() - this.t0) * 10) / 10;
  }
  /** Records `event` stamped now (a distributive Omit keeps each kind's own fields). */
  add(event: DistributiveOmit<HistoryEvent, 't'>): void {
    this.events.push({ ...event, t: this.now() } as HistoryEvent);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The key under which a request id is matched to its reply: 5 and "5" are different ids. */
export function idKey(id: unknown): string {
  return JSON.stringify(id);
}
