// The chaos checker (server/chaos/checker.ts) on made-up histories: for each promise, a history
// that keeps it passes and one that breaks it is caught under the right rule. No server here.
import { describe, expect, it } from 'vitest';
import { check, type RuleId } from '../chaos/checker.ts';
import type { FinalReads, History, HistoryEvent, StoredMessage } from '../chaos/history.ts';
import { Req, Srv } from '../protocol/codes.ts';

const T0 = 1_800_000_000_000;

/** Builds a history step by step; each call advances the clock by 1 ms. */
class Story {
  events: HistoryEvent[] = [];
  private t = 0;
  final: FinalReads = { who: [[]], stored: [], disagreements: [], problems: [] };
  private add(e: Record<string, unknown>): this {
    this.events.push({ ...e, t: ++this.t } as HistoryEvent);
    return this;
  }
  wait(ms: number) {
    this.t += ms;
    return this;
  }
  open(conn: number, slot = conn) {
    return this.add({ kind: 'open', conn, slot, host: 0 });
  }
  req(conn: number, type: number, id: string | number, body: Record<string, unknown> = {}, how = 'normal') {
    return this.add({ kind: 'invoke', conn, type, body: { id, ...body }, how });
  }
  ok(conn: number, re: string | number, body: Record<string, unknown> = {}) {
    return this.add({ kind: 'reply', conn, frame: { type: Srv.OK, body: { re, ...body } } });
  }
  err(conn: number, re: string | number, code: string) {
    return this.add({ kind: 'reply', conn, frame: { type: Srv.ERROR, body: { re, code, message: code } } });
  }
  push(conn: number, type: number, body: object) {
    return this.add({ kind: 'push', conn, frame: { type, body: { ...body } } });
  }
  hangup(conn: number) {
    return this.add({ kind: 'hangup', conn, how: 'destroy' });
  }
  closed(conn: number) {
    return this.add({ kind: 'closed', conn });
  }
  nemesis(fault: string, phase: 'start' | 'end') {
    return this.add({ kind: 'nemesis', fault, phase, detail: '' });
  }
  mark(what: string) {
    return this.add({ kind: 'mark', what });
  }
  /** A connection logged in as `user` (LOGIN answered with pending 0). */
  login(conn: number, user: string, pending = 0) {
    return this.open(conn).req(conn, Req.LOGIN, `l${conn}`, { user, password: 'x' }).ok(conn, `l${conn}`, { user, pending });
  }
  /** A SEND acknowledged with msgId (ts: the clock of the OK). */
  send(conn: number, id: number, to: string, text: string, msgId: number, key?: string) {
    this.req(conn, Req.SEND, id, { to, text, ...(key === undefined ? {} : { key }) });
    return this.ok(conn, id, { msgId, ts: this.ts(1) });
  }
  ts(ahead = 0): number {
    return T0 + this.t + ahead;
  }
  /** The end of the run: final reads, then every connection closed by the checker. */
  end(stored: StoredMessage[], who: string[] = []): History {
    this.mark('final reads');
    this.final.stored = stored;
    this.final.who = [who];
    this.mark('end');
    const open = new Set<number>();
    for (const e of this.events) if (e.kind === 'open') open.add(e.conn);
    for (const e of this.events) if (e.kind === 'closed') open.delete(e.conn);
    for (const c of open) this.closed(c);
    return { startedAt: T0, users: ['ann', 'bob', 'cat'], hosts: 1, events: this.events, final: this.final };
  }
}

const rules = (h: History): RuleId[] => [...new Set(check(h).map((v) => v.rule))].sort();
const msg = (msgId: number, from: string, to: string, text: string, ts: number): StoredMessage => ({ msgId, from, to, text, ts });

describe('the chaos checker', () => {
  it('passes a history that keeps every promise', () => {
    const s = new Story().login(1, 'ann').login(2, 'bob');
    s.send(1, 1, 'bob', 'hi', 7);
    const ts = s.ts();
    s.push(2, Srv.MESSAGE, { msgId: 7, from: 'ann', to: 'bob', text: 'hi', ts });
    s.req(2, Req.HISTORY, 2, { with: 'ann' }).ok(2, 2, { messages: [msg(7, 'ann', 'bob', 'hi', ts)] });
    expect(check(s.end([msg(7, 'ann', 'bob', 'hi', ts)], ['ann', 'bob']))).toEqual([]);
  });

  it('catches a keyed retry whose own text reaches the recipient (nothing delivered that is not stored)', () => {
    const s = new Story().login(1, 'ann').login(2, 'bob');
    s.send(1, 1, 'bob', 'first', 7, 'k');
    const ts = s.ts();
    s.push(2, Srv.MESSAGE, { msgId: 7, from: 'ann', to: 'bob', text: 'first', ts });
    s.req(1, Req.SEND, 2, { to: 'bob', text: 'second', key: 'k' }).ok(1, 2, { msgId: 7, ts });
    s.push(2, Srv.MESSAGE, { msgId: 7, from: 'ann', to: 'bob', text: 'second', ts });
    expect(rules(s.end([msg(7, 'ann', 'bob', 'first', ts)], ['ann', 'bob']))).toEqual(['delivered-is-stored']);
  });

  it('allows a keyed retry answered with the first msgId, or refused, when nothing else is delivered', () => {
    const s = new Story().login(1, 'ann').login(2, 'bob');
    s.send(1, 1, 'bob', 'first', 7, 'k');
    const ts = s.ts();
    s.push(2, Srv.MESSAGE, { msgId: 7, from: 'ann', to: 'bob', text: 'first', ts });
    s.req(1, Req.SEND, 2, { to: 'bob', text: 'second', key: 'k' }).ok(1, 2, { msgId: 7, ts });
    s.req(1, Req.SEND, 3, { to: 'bob', text: 'third', key: 'k' }).err(1, 3, 'key_reused');
    expect(check(s.end([msg(7, 'ann', 'bob', 'first', ts)], ['ann', 'bob']))).toEqual([]);
  });

  it('catches a keyed SEND stored twice, and a retry after no answer that is stored twice', () => {
    const s = new Story().login(1, 'ann').login(2, 'bob');
    s.req(1, Req.SEND, 1, { to: 'bob', text: 'a', key: 'k' }).hangup(1).closed(1);
    s.login(3, 'ann');
    s.send(3, 2, 'bob', 'b', 8, 'k');
    const ts = s.ts();
    s.push(2, Srv.MESSAGE, { msgId: 7, from: 'ann', to: 'bob', text: 'a', ts });
    s.push(2, Srv.MESSAGE, { msgId: 8, from: 'ann', to: 'bob', text: 'b', ts });
    expect(rules(s.end([msg(7, 'ann', 'bob', 'a', ts), msg(8, 'ann', 'bob', 'b', ts)], ['ann', 'bob']))).toEqual(['key-once']);
  });

  it('catches an acknowledged DM missing from HISTORY, and allows an unacknowledged one either way', () => {
    const lost = new Story().login(1, 'ann');
    lost.send(1, 1, 'bob', 'gone', 7);
    expect(rules(lost.end([], ['ann']))).toContain('ack-stored');

    const unknown = new Story().login(1, 'ann');
    unknown.req(1, Req.SEND, 1, { to: 'bob', text: 'maybe' }).closed(1);
    expect(check(unknown.end([]))).toEqual([]);
    const unavailable = new Story().login(1, 'ann');
    unavailable.req(1, Req.SEND, 1, { to: 'bob', text: 'maybe' }).err(1, 1, 'unavailable');
    const ts = unavailable.ts();
    expect(check(unavailable.end([msg(3, 'ann', 'bob', 'maybe', ts)], ['ann']))).toEqual([]);
  });

  it('catches a SEND refused with a definite error that was stored anyway', () => {
    const s = new Story().login(1, 'ann');
    s.req(1, Req.SEND, 1, { to: 'bob', text: 'no' }).err(1, 1, 'rate_limited');
    expect(rules(s.end([msg(3, 'ann', 'bob', 'no', s.ts())], ['ann']))).toEqual(['refused-not-stored']);
  });

  it('catches an acknowledged DM that never reached its recipient, unless a connection of theirs dropped meanwhile', () => {
    const build = (drop: boolean) => {
      const s = new Story().login(1, 'ann').login(2, 'bob');
      s.send(1, 1, 'bob', 'hi', 7);
      const ts = s.ts();
      if (drop) s.hangup(2).closed(2);
      s.mark('final reads'); // the final LOGIN of bob, which brought nothing
      s.open(9, -1).req(9, Req.LOGIN, 'f', { user: 'bob', password: 'x' }).ok(9, 'f', { user: 'bob', pending: 0 });
      s.events = s.events.filter((e) => !(e.kind === 'mark' && e.what === 'final reads'));
      return s.end([msg(7, 'ann', 'bob', 'hi', ts)], drop ? ['ann'] : ['ann', 'bob']);
    };
    expect(rules(build(false))).toEqual(['dm-delivered']);
    expect(check(build(true))).toEqual([]);
  });

  it('catches replies out of order, and a request left without a reply on an open connection', () => {
    const order = new Story().open(1).req(1, Req.PING, 1).req(1, Req.PING, 2).ok(1, 2).ok(1, 1);
    expect(rules(order.end([]))).toEqual(['one-reply']);
    const silent = new Story().open(1).req(1, Req.PING, 1);
    const h = silent.end([]);
    h.events = h.events.filter((e) => e.kind !== 'closed'); // still open at the end
    expect(rules(h)).toEqual(['one-reply']);
    const closed = new Story().open(1).req(1, Req.PING, 1).closed(1);
    expect(check(closed.end([]))).toEqual([]);
  });

  it('catches HISTORY oldest first, and HISTORY leaving out an acknowledged message', () => {
    const s = new Story().login(1, 'ann').login(2, 'bob');
    s.send(1, 1, 'bob', 'a', 7);
    const ta = s.ts();
    s.send(1, 2, 'bob', 'b', 8);
    const tb = s.ts();
    const a = msg(7, 'ann', 'bob', 'a', ta);
    const b = msg(8, 'ann', 'bob', 'b', tb);
    s.push(2, Srv.MESSAGE, a).push(2, Srv.MESSAGE, b);
    s.req(2, Req.HISTORY, 3, { with: 'ann' }).ok(2, 3, { messages: [a, b] });
    expect(rules(s.end([a, b], ['ann', 'bob']))).toEqual(['history-as-sent']);

    const gap = new Story().login(1, 'ann').login(2, 'bob');
    gap.send(1, 1, 'bob', 'a', 7);
    const ga = msg(7, 'ann', 'bob', 'a', gap.ts());
    gap.send(1, 2, 'bob', 'b', 8);
    const gb = msg(8, 'ann', 'bob', 'b', gap.ts());
    gap.push(2, Srv.MESSAGE, ga).push(2, Srv.MESSAGE, gb);
    gap.req(2, Req.HISTORY, 3, { with: 'ann' }).ok(2, 3, { messages: [ga] });
    expect(rules(gap.end([ga, gb], ['ann', 'bob']))).toEqual(['history-as-sent']);
  });

  it('catches msgIds that go backwards in time', () => {
    const s = new Story().login(1, 'ann').login(2, 'bob');
    s.send(1, 1, 'bob', 'a', 9);
    const a = msg(9, 'ann', 'bob', 'a', s.ts());
    s.send(1, 2, 'bob', 'b', 8);
    const b = msg(8, 'ann', 'bob', 'b', s.ts());
    s.push(2, Srv.MESSAGE, a).push(2, Srv.MESSAGE, b);
    expect(rules(s.end([a, b], ['ann', 'bob']))).toEqual(['msgid-order']);
  });

  it('catches a ghost in WHO (no open connection holds the user) and a live user missing from WHO', () => {
    const ghost = new Story().login(1, 'ann').login(2, 'bob').hangup(2).closed(2);
    expect(rules(ghost.end([], ['ann', 'bob']))).toEqual(['online-iff-connected']);
    const missing = new Story().login(1, 'ann');
    expect(rules(missing.end([], []))).toEqual(['online-iff-connected']);
  });

  it('catches a ghost in a WHO during the run (a connection gone a while, no fault), not one that just closed', () => {
    const build = (gapMs: number) => {
      const s = new Story().login(1, 'ann').login(2, 'bob').hangup(2).closed(2).wait(gapMs);
      s.req(1, Req.WHO, 1).ok(1, 1, { users: ['ann', 'bob'] });
      return s.end([], ['ann']);
    };
    expect(rules(build(3_000))).toEqual(['online-iff-connected']);
    expect(check(build(10))).toEqual([]);
  });

  it('catches a session replaced by a LOGIN that was refused (the newest LOGIN wins), and frames after session_replaced', () => {
    const s = new Story().login(1, 'ann').open(2).req(2, Req.LOGIN, 'x', { user: 'ann', password: 'x' }).err(2, 'x', 'unavailable');
    s.push(1, Srv.ERROR, { code: 'session_replaced', message: '' }).closed(1);
    expect(rules(s.end([], []))).toEqual(['newest-login-wins']);

    const fine = new Story().login(1, 'ann').login(2, 'ann').push(1, Srv.ERROR, { code: 'session_replaced', message: '' }).closed(1);
    expect(check(fine.end([], ['ann']))).toEqual([]);

    const late = new Story().login(1, 'ann').login(2, 'ann').push(1, Srv.ERROR, { code: 'session_replaced', message: '' });
    late.push(1, Srv.WIZZED, { from: 'bob', ts: 1 }).closed(1);
    expect(rules(late.end([], ['ann']))).toContain('newest-login-wins');
  });

  it('catches ROOM frames out of the sender\'s order, twice, or back to the sender', () => {
    const base = () => {
      const s = new Story().login(1, 'ann').login(2, 'bob');
      s.req(1, Req.JOIN, 1, { room: '#r' }).ok(1, 1, { room: '#r', members: ['ann'] });
      s.req(2, Req.JOIN, 2, { room: '#r' }).ok(2, 2, { room: '#r', members: ['ann', 'bob'] });
      s.push(1, Srv.PRESENCE, { room: '#r', user: 'bob', event: 'join' });
      s.req(1, Req.SAY, 3, { room: '#r', text: 'one' }).ok(1, 3, { ts: 1 });
      s.req(1, Req.SAY, 4, { room: '#r', text: 'two' }).ok(1, 4, { ts: 2 });
      return s;
    };
    const good = base();
    good.push(2, Srv.ROOM, { room: '#r', from: 'ann', text: 'one', ts: 1 }).push(2, Srv.ROOM, { room: '#r', from: 'ann', text: 'two', ts: 2 });
    expect(check(good.end([], ['ann', 'bob']))).toEqual([]);
    const swapped = base();
    swapped.push(2, Srv.ROOM, { room: '#r', from: 'ann', text: 'two', ts: 2 }).push(2, Srv.ROOM, { room: '#r', from: 'ann', text: 'one', ts: 1 });
    expect(rules(swapped.end([], ['ann', 'bob']))).toEqual(['room-as-said']);
    const twice = base();
    twice.push(2, Srv.ROOM, { room: '#r', from: 'ann', text: 'one', ts: 1 }).push(2, Srv.ROOM, { room: '#r', from: 'ann', text: 'one', ts: 1 });
    twice.push(2, Srv.ROOM, { room: '#r', from: 'ann', text: 'two', ts: 2 });
    expect(rules(twice.end([], ['ann', 'bob']))).toEqual(['room-as-said']);
    const echo = base();
    echo.push(2, Srv.ROOM, { room: '#r', from: 'ann', text: 'one', ts: 1 }).push(2, Srv.ROOM, { room: '#r', from: 'ann', text: 'two', ts: 2 });
    echo.push(1, Srv.ROOM, { room: '#r', from: 'ann', text: 'one', ts: 1 });
    expect(rules(echo.end([], ['ann', 'bob']))).toEqual(['room-as-said']);
  });

  it('catches a member that never got a SAY routed while it was in the room (no fault), and excuses it under a fault', () => {
    const build = (fault: boolean) => {
      const s = new Story().login(1, 'ann').login(2, 'bob');
      s.req(1, Req.JOIN, 1, { room: '#r' }).ok(1, 1, { room: '#r', members: ['ann'] });
      s.req(2, Req.JOIN, 2, { room: '#r' }).ok(2, 2, { room: '#r', members: ['ann', 'bob'] });
      s.push(1, Srv.PRESENCE, { room: '#r', user: 'bob', event: 'join' });
      if (fault) s.nemesis('redis-stall', 'start').nemesis('redis-stall', 'end');
      s.req(1, Req.SAY, 3, { room: '#r', text: 'lost' }).ok(1, 3, { ts: 1 });
      return s.end([], ['ann', 'bob']);
    };
    expect(rules(build(false))).toEqual(['room-delivered']);
    expect(check(build(true))).toEqual([]);
  });

  it('catches PRESENCE more often than the member joined', () => {
    const s = new Story().login(1, 'ann').login(2, 'bob');
    s.req(1, Req.JOIN, 1, { room: '#r' }).ok(1, 1, { room: '#r', members: ['ann'] });
    s.req(2, Req.JOIN, 2, { room: '#r' }).ok(2, 2, { room: '#r', members: ['ann', 'bob'] });
    s.push(1, Srv.PRESENCE, { room: '#r', user: 'bob', event: 'join' }).push(1, Srv.PRESENCE, { room: '#r', user: 'bob', event: 'join' });
    expect(rules(s.end([], ['ann', 'bob']))).toEqual(['presence-at-most-once']);
  });
});
