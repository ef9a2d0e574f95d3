// The checker: a model of the Guarantees page (docs/server/guarantees.md), the protocol's "What
// each frame is promised" (docs/reference/protocol.md) and "Guarantees, and what breaks them"
// (docs/server/cluster.md), as one pure function over a recorded history. Written from the docs,
// not from the server's code. A request whose connection closed before its reply is `info`
// (unknown): the model allows both outcomes. Every violation names the rule it breaks and quotes it.
import { Req, Srv } from '../protocol/codes.ts';
import type { Frame } from '../protocol/frame.ts';
import { idKey, type History, type HistoryEvent, type How, type StoredMessage } from './history.ts';

export interface Violation {
  rule: RuleId;
  /** What was observed, in one or two sentences. */
  message: string;
  /** Indices into history.events of what shows it. */
  events: number[];
}

/** Each promise the checker holds the server to, with the docs' words. */
export const RULES = {
  'one-reply': {
    promise: 'every request gets exactly one reply, in request order',
    quote: 'Every request gets **exactly one** reply … replies come back in request order. (protocol.md, Requests and replies)',
  },
  'ack-stored': {
    promise: 'an acknowledged DM is stored exactly once, with the text, sender and recipient sent',
    quote: 'The message is committed to the database before the sender gets `OK {re, msgId, ts}` (protocol.md, SEND); "Nothing acknowledged is lost" (guarantees.md)',
  },
  'key-once': {
    promise: 'a SEND with a key is stored at most once; a retry answers with the first msgId',
    quote: 'With a `key`, SEND is idempotent: a later SEND from the same user with the same `key` stores nothing and answers with the first one\'s `msgId` and `ts` (protocol.md, SEND)',
  },
  'refused-not-stored': {
    promise: 'a SEND refused with a definite error stored nothing',
    quote: 'A request that finds its bucket empty gets `rate_limited` and is not carried out; storage_full: nothing was stored (protocol.md)',
  },
  'msgid-order': {
    promise: 'msgId increases with time',
    quote: '`msgId` is a positive integer that increases with time: a later message has a larger `msgId`. (protocol.md, Frame types)',
  },
  'delivered-is-stored': {
    promise: 'nothing is delivered that is not stored',
    quote: 'MESSAGE (a DM): durable, at least once: stored (and fsynced) before the sender\'s `OK` (protocol.md, What each frame is promised); "nothing reaches a client that is not stored" (issue 19)',
  },
  'dm-delivered': {
    promise: 'an acknowledged DM reaches its recipient live or at a later LOGIN',
    quote: 'delivered live if the recipient is online on any host … otherwise sent at the recipient\'s next LOGIN, on any host (protocol.md, What each frame is promised)',
  },
  'login-backlog': {
    promise: 'LOGIN is followed by exactly `pending` MESSAGE frames, oldest first',
    quote: '→ `OK {re, user, pending}`, then exactly `pending` MESSAGE frames, oldest first (protocol.md, LOGIN)',
  },
  'history-as-sent': {
    promise: 'HISTORY returns what was sent, newest first, complete',
    quote: '`messages: [{msgId, from, to, text, ts}, …]` **newest first**, at most `limit` … only those with `msgId < before` (protocol.md, HISTORY)',
  },
  'history-same': {
    promise: 'HISTORY is the same from every side and host',
    quote: 'HISTORY the same from every host (cluster.md, Guarantees)',
  },
  'online-iff-connected': {
    promise: 'a user is online (WHO) iff a live connection holds them, once the lease has passed',
    quote: 'Without `room`: → `OK {re, users}`, the online users (protocol.md, WHO); a host that dies … is noticed when its **lease** runs out (cluster.md)',
  },
  'newest-login-wins': {
    promise: 'one session per user; the newest LOGIN wins; the replaced connection gets session_replaced, is closed and gets nothing more',
    quote: 'one per user across all hosts; the newest LOGIN wins and the old session gets `session_replaced` (cluster.md); the old connection gets `ERROR {code: "session_replaced", message}` and is closed (protocol.md, LOGIN)',
  },
  'room-as-said': {
    promise: 'ROOM frames are what members said, at most once, to other members, in each sender\'s order',
    quote: 'ROOM, PRESENCE: **at most once, live**: every member online when the frame is routed gets it once, in the order the room\'s messages were routed (protocol.md); the sender gets no copy (SAY)',
  },
  'room-delivered': {
    promise: 'with no fault, every member online when a SAY is routed gets its ROOM frame',
    quote: 'ROOM, PRESENCE: **at most once, live**: every member online when the frame is routed gets it once (protocol.md, What each frame is promised); under traffic a joiner gets every ROOM frame after its JOIN (guarantees.md)',
  },
  'presence-at-most-once': {
    promise: 'PRESENCE frames are at most once, for joins and leaves that happened',
    quote: 'ROOM, PRESENCE: **at most once, live** (protocol.md, What each frame is promised)',
  },
  'wizz-at-most-once': {
    promise: 'WIZZED at most once per WIZZ',
    quote: 'WIZZED: at most once, live (protocol.md, What each frame is promised)',
  },
} as const;
export type RuleId = keyof typeof RULES;

/** Errors after which a request was certainly not carried out (everything but `unavailable`). */
const MAYBE_CODES = new Set(['unavailable']);
/** Slack for comparing the server's clock (ts) with the client's (the same machine). */
const CLOCK_SLACK_MS = 250;
/** Time for a closed session's release to reach the shared view (a post through the primary, a Redis script). */
const RELEASE_GRACE_MS = 1_000;
/** How long after a fault healed its effects may still show in WHO (a 2 s lease expiring, a re-registration). */
const AFTERMATH_MS = 4_000;

interface Request {
  idx: number;
  t: number;
  conn: number;
  type: number;
  body: Record<string, unknown>;
  how: How;
  reply?: { idx: number; t: number; frame: Frame };
  /** The user of the connection's session when this request was handled (known after the pass). */
  user?: string;
  final: boolean;
}

interface Conn {
  conn: number;
  slot: number;
  requests: Request[];
  pushes: number[];
  hangupT?: number;
  closedT?: number;
  replacedT?: number;
  /** The first closing ERROR without `re` (slow_consumer, timeout, …). */
  closingCode?: string;
  loginOk?: Request;
}

type Outcome = 'ok' | 'fail' | 'maybe' | 'info';

function outcome(r: Request): Outcome {
  if (!r.reply) return 'info';
  if (r.reply.frame.type === Srv.OK) return 'ok';
  return MAYBE_CODES.has(String(r.reply.frame.body.code)) ? 'maybe' : 'fail';
}
/** Carried out, or perhaps carried out. */
const possible = (r: Request) => outcome(r) !== 'fail';
const replyT = (r: Request) => r.reply?.t ?? Infinity;
const sameMessage = (a: StoredMessage, b: Record<string, unknown>) => a.msgId === b.msgId && a.from === b.from && a.to === b.to && a.text === b.text && a.ts === b.ts;
const short = (s: string) => {
  const cps = [...s];
  return cps.length <= 3 ? JSON.stringify(s) : `${JSON.stringify(cps.slice(0, 2).join(''))}…(${cps.length} chars)`;
};

export function check(h: History): Violation[] {
  const out: Violation[] = [];
  const violate = (rule: RuleId, message: string, events: number[]) => out.push({ rule, message, events: [...new Set(events)].sort((a, b) => a - b) });
  const ev = h.events;
  const mark = (what: string) => ev.find((e) => e.kind === 'mark' && e.what === what)?.t ?? Infinity;
  const finalT = mark('final reads');
  const endT = mark('end');

  // ---- one pass: connections, requests matched to replies in order --------------------------
  const conns = new Map<number, Conn>();
  const requests: Request[] = [];
  ev.forEach((e, idx) => {
    if (e.kind === 'open') conns.set(e.conn, { conn: e.conn, slot: e.slot, requests: [], pushes: [] });
    const c = 'conn' in e ? conns.get(e.conn) : undefined;
    if (!c) return;
    if (c.replacedT !== undefined && (e.kind === 'reply' || e.kind === 'push')) {
      violate('newest-login-wins', `connection #${c.conn} got a frame after session_replaced`, [idx]);
    }
    switch (e.kind) {
      case 'invoke': {
        const r: Request = { idx, t: e.t, conn: e.conn, type: e.type, body: e.body, how: e.how, final: c.slot < 0 || e.t >= finalT };
        c.requests.push(r);
        requests.push(r);
        break;
      }
      case 'reply': {
        const key = idKey(e.frame.body.re);
        const waiting = c.requests.filter((r) => !r.reply);
        const match = waiting.find((r) => idKey(r.body.id) === key);
        if (!match) {
          violate('one-reply', `connection #${c.conn} got a reply to id ${key}, which no request is waiting for (a second reply, or an id changed)`, [idx]);
          break;
        }
        if (match !== waiting[0]) {
          violate('one-reply', `connection #${c.conn}: the reply to ${key} came before the reply to the earlier request ${idKey(waiting[0]!.body.id)}`, [waiting[0]!.idx, match.idx, idx]);
        }
        match.reply = { idx, t: e.t, frame: e.frame };
        if (e.frame.type === Srv.ERROR && e.frame.body.code === 'session_replaced') c.replacedT = e.t;
        break;
      }
      case 'push':
        c.pushes.push(idx);
        if (e.frame.type === Srv.ERROR) {
          c.closingCode ??= String(e.frame.body.code);
          if (e.frame.body.code === 'session_replaced') c.replacedT ??= e.t;
        }
        break;
      case 'hangup':
        c.hangupT ??= e.t;
        break;
      case 'closed':
        c.closedT ??= e.t;
        break;
    }
  });

  // Replies owed: a request on a connection that stayed open (past the final PING barrier) must
  // have been answered; on a connection that closed, its outcome is unknown.
  for (const r of requests) {
    const c = conns.get(r.conn)!;
    const gone = Math.min(c.hangupT ?? Infinity, c.closedT ?? Infinity);
    if (!r.reply && gone >= endT) violate('one-reply', `request ${idKey(r.body.id)} on connection #${c.conn} never got a reply, though the connection stayed open`, [r.idx]);
  }

  // Sessions: who each request ran as (requests of a connection run in order). A RESUME is a LOGIN
  // as the user whose LOGIN handed out its token.
  const logins: Request[] = [];
  const isLogin = (r: Request) => r.type === Req.LOGIN || r.type === (Req as Record<string, number>).RESUME;
  const tokenUser = new Map<string, string>();
  for (const r of requests) {
    const b = r.reply?.frame.body;
    if (isLogin(r) && b && typeof b.token === 'string' && typeof b.user === 'string') tokenUser.set(b.token, b.user);
  }
  for (const r of requests) if (isLogin(r) && r.body.user === undefined && typeof r.body.token === 'string') r.body = { ...r.body, user: tokenUser.get(r.body.token) };
  for (const c of conns.values()) {
    let user: string | undefined;
    let maybeUser: string | undefined;
    for (const r of c.requests) {
      r.user = user ?? maybeUser;
      if (isLogin(r)) {
        logins.push(r);
        const who = (r.reply?.frame.body.user as string | undefined) ?? (r.body.user as string | undefined);
        if (outcome(r) === 'ok' && user === undefined) {
          user = who;
          c.loginOk = r;
        } else if (outcome(r) === 'info' && user === undefined) maybeUser = who;
      }
    }
  }
  const userOf = (conn: number) => {
    const c = conns.get(conn)!;
    return (c.loginOk?.reply?.frame.body.user as string | undefined) ?? (c.loginOk?.body.user as string | undefined);
  };
  const ended = (c: Conn) => Math.min(c.hangupT ?? Infinity, c.closedT ?? Infinity, c.replacedT ?? Infinity);

  // ---- direct messages --------------------------------------------------------------------------
  const sends = requests.filter((r) => r.type === Req.SEND && !r.final);
  const sendByText = new Map<string, Request>();
  for (const r of sends) sendByText.set(r.body.text as string, r);
  const finalOk = h.final.problems.length === 0;
  const stored = h.final.stored;
  const storedById = new Map(stored.map((m) => [m.msgId, m]));
  const storedByText = new Map<string, StoredMessage[]>();
  for (const m of stored) storedByText.set(m.text, [...(storedByText.get(m.text) ?? []), m]);

  if (finalOk) {
    for (const d of h.final.disagreements) violate('history-same', d, []);
    for (const m of stored) {
      const r = sendByText.get(m.text);
      if (!r) {
        violate('delivered-is-stored', `HISTORY holds msgId ${m.msgId} (${short(m.text)} from ${m.from} to ${m.to}), which no SEND carried`, []);
        continue;
      }
      if (r.user !== m.from || r.body.to !== m.to) violate('ack-stored', `msgId ${m.msgId} is stored from ${m.from} to ${m.to}, but its SEND was from ${r.user} to ${String(r.body.to)}`, [r.idx]);
      if (outcome(r) === 'fail') violate('refused-not-stored', `the SEND refused with ${String(r.reply!.frame.body.code)} was stored (msgId ${m.msgId})`, [r.idx, r.reply!.idx]);
      if ((storedByText.get(m.text) ?? []).length > 1) violate('ack-stored', `one SEND is stored ${storedByText.get(m.text)!.length} times`, [r.idx]);
    }
    // Acknowledged: stored once, under the msgId and ts the OK gave; with a key, the group stores one.
    const groups = new Map<string, Request[]>();
    for (const r of sends) {
      const g = r.body.key === undefined ? `#${r.idx}` : `${r.user}\u0000${String(r.body.key)}`;
      groups.set(g, [...(groups.get(g) ?? []), r]);
    }
    for (const group of groups.values()) {
      const inStore = group.flatMap((r) => storedByText.get(r.body.text as string) ?? []);
      if (group.length > 1 && inStore.length > 1) {
        violate('key-once', `SENDs with key ${JSON.stringify(group[0]!.body.key)} from ${group[0]!.user} are stored ${inStore.length} times (msgIds ${inStore.map((m) => m.msgId).join(', ')})`, group.map((r) => r.idx));
      }
      for (const r of group.filter((x) => outcome(x) === 'ok')) {
        const ok = r.reply!.frame.body;
        const m = inStore.find((x) => x.msgId === ok.msgId);
        if (!m) {
          violate(group.length > 1 ? 'key-once' : 'ack-stored', `SEND acknowledged with msgId ${String(ok.msgId)} is not in HISTORY${inStore.length ? ` (stored: msgId ${inStore.map((x) => x.msgId).join(', ')})` : ''}`, [r.idx, r.reply!.idx]);
        } else if (m.ts !== ok.ts) violate('ack-stored', `SEND acknowledged with ts ${String(ok.ts)} is stored with ts ${m.ts}`, [r.idx, r.reply!.idx]);
      }
    }
  }

  // msgId increases with time, over the SENDs whose own text was stored under their OK's msgId.
  const origins = sends.filter((r) => outcome(r) === 'ok' && storedByText.get(r.body.text as string)?.[0]?.msgId === r.reply!.frame.body.msgId);
  for (const a of origins) {
    const ts = a.reply!.frame.body.ts as number;
    if (ts < h.startedAt + a.t - CLOCK_SLACK_MS || ts > h.startedAt + a.reply!.t + CLOCK_SLACK_MS) {
      violate('ack-stored', `SEND got ts ${ts}, ${ts - h.startedAt - a.t} ms after it was sent and ${ts - h.startedAt - a.reply!.t} ms after its OK — not the time it was stored`, [a.idx, a.reply!.idx]);
    }
    for (const b of origins) {
      if (a.reply!.t < b.t && (a.reply!.frame.body.msgId as number) >= (b.reply!.frame.body.msgId as number)) {
        violate('msgid-order', `msgId ${String(b.reply!.frame.body.msgId)} was given to a SEND made after msgId ${String(a.reply!.frame.body.msgId)} was acknowledged`, [a.idx, a.reply!.idx, b.idx, b.reply!.idx]);
      }
    }
  }

  // Every MESSAGE is a stored message, to the user of the connection, after its LOGIN.
  const deliveredTo = new Map<number, number[]>(); // msgId → event indices
  for (const c of conns.values()) {
    const user = userOf(c.conn);
    let backlog = 0;
    let lastBacklogId = -Infinity;
    for (const idx of c.pushes) {
      const e = ev[idx] as Extract<HistoryEvent, { kind: 'push' }>;
      if (e.frame.type !== Srv.MESSAGE) continue;
      const b = e.frame.body;
      deliveredTo.set(b.msgId as number, [...(deliveredTo.get(b.msgId as number) ?? []), idx]);
      if (!c.loginOk?.reply || c.loginOk.reply.idx > idx) violate('login-backlog', `connection #${c.conn} got a MESSAGE before its LOGIN was answered`, [idx]);
      if (b.to !== user) violate('delivered-is-stored', `connection #${c.conn} of ${user} got a MESSAGE addressed to ${String(b.to)}`, [idx]);
      if (finalOk) {
        const m = storedById.get(b.msgId as number);
        if (!m) violate('delivered-is-stored', `MESSAGE msgId ${String(b.msgId)} (${short(String(b.text))}) was delivered but is stored nowhere`, [idx]);
        else if (!sameMessage(m, b)) {
          const diff = (['from', 'to', 'text', 'ts'] as const).filter((k) => m[k] !== b[k]).map((k) => `${k} ${k === 'text' ? short(String(b[k])) : String(b[k])} (stored: ${k === 'text' ? short(m[k]) : m[k]})`);
          const sent = sendByText.get(String(b.text));
          violate('delivered-is-stored', `MESSAGE msgId ${String(b.msgId)} was delivered with ${diff.join(', ')}`, [idx, ...(sent ? [sent.idx] : [])]);
        }
      }
      const pending = c.loginOk?.reply?.frame.body.pending;
      if (typeof pending === 'number' && backlog < pending) {
        backlog++;
        if ((b.msgId as number) <= lastBacklogId) violate('login-backlog', `the LOGIN backlog on connection #${c.conn} is not oldest first (msgId ${String(b.msgId)} after ${lastBacklogId})`, [idx]);
        lastBacklogId = b.msgId as number;
      }
    }
    const pending = c.loginOk?.reply?.frame.body.pending;
    if (typeof pending === 'number' && backlog < pending && ended(c) >= endT) {
      violate('login-backlog', `LOGIN on connection #${c.conn} announced pending ${pending} but only ${backlog} MESSAGE frames came`, [c.loginOk!.reply!.idx]);
    }
  }

  // Every acknowledged DM reached its recipient — unless a connection of the recipient that may
  // have been written to dropped (by either side, not by a replacement) after the SEND began:
  // "a MESSAGE written to a connection that drops before the client read it is not sent again".
  if (finalOk) {
    for (const r of origins) {
      const msgId = r.reply!.frame.body.msgId as number;
      if (deliveredTo.has(msgId)) continue;
      const to = r.body.to as string;
      const excused = [...conns.values()].some((c) => {
        if (!c.loginOk || userOf(c.conn) !== to) return false;
        const gone = Math.min(c.hangupT ?? Infinity, c.closedT ?? Infinity);
        return gone > r.t && gone < finalT && (c.replacedT === undefined || gone < c.replacedT);
      });
      const finalLogin = logins.some((l) => l.final && outcome(l) === 'ok' && l.body.user === to);
      if (!excused && finalLogin) violate('dm-delivered', `the DM msgId ${msgId} to ${to}, acknowledged, never arrived: not live, not at the final LOGIN`, [r.idx, r.reply!.idx]);
    }
  }

  // HISTORY during the run: stored messages of the pair, newest first, within limit and before, no gaps.
  for (const r of requests.filter((x) => x.type === Req.HISTORY && !x.final && outcome(x) === 'ok')) {
    const msgs = r.reply!.frame.body.messages as Array<Record<string, unknown>>;
    const me = r.user;
    const other = r.body.with as string;
    const limit = Math.min((r.body.limit as number | undefined) ?? 50, 100);
    const before = r.body.before as number | undefined;
    const here = [r.idx, r.reply!.idx];
    if (msgs.length > limit) violate('history-as-sent', `HISTORY with limit ${limit} returned ${msgs.length} messages`, here);
    msgs.forEach((m, i) => {
      const pair = (m.from === me && m.to === other) || (m.from === other && m.to === me);
      if (!pair) violate('history-as-sent', `HISTORY of ${me} with ${other} returned msgId ${String(m.msgId)} from ${String(m.from)} to ${String(m.to)}`, here);
      if (before !== undefined && (m.msgId as number) >= before) violate('history-as-sent', `HISTORY before ${before} returned msgId ${String(m.msgId)}`, here);
      if (i > 0 && (m.msgId as number) >= (msgs[i - 1]!.msgId as number)) violate('history-as-sent', `HISTORY is not newest first: msgId ${String(m.msgId)} after ${String(msgs[i - 1]!.msgId)}`, here);
      if (finalOk) {
        const s = storedById.get(m.msgId as number);
        if (!s || !sameMessage(s, m)) violate('history-as-sent', `HISTORY returned msgId ${String(m.msgId)} (${short(String(m.text))}) unlike what is stored${s ? ` (${short(s.text)})` : ' (nothing)'}`, here);
      }
    });
    const lowest = msgs.length ? Math.min(...msgs.map((m) => m.msgId as number)) : Infinity;
    const returned = new Set(msgs.map((m) => m.msgId));
    for (const a of origins) {
      const id = a.reply!.frame.body.msgId as number;
      const pair = (a.user === me && a.body.to === other) || (a.user === other && a.body.to === me);
      if (!pair || a.reply!.t >= r.t || (before !== undefined && id >= before)) continue;
      if ((msgs.length === 0 || id > lowest) && !returned.has(id)) {
        violate('history-as-sent', `HISTORY of ${me} with ${other} left out msgId ${id}, acknowledged before it was asked`, [a.idx, a.reply!.idx, ...here]);
      }
    }
  }

  // ---- sessions and presence ----------------------------------------------------------------------
  const sessions = [...conns.values()].filter((c) => c.loginOk && c.slot >= 0);
  const aliveAtFinal = sessions.filter((c) => ended(c) >= finalT);
  const expected = new Set(aliveAtFinal.map((c) => userOf(c.conn)!));
  h.final.who.forEach((who, host) => {
    if (!who) return;
    const ghosts = who.filter((u) => !expected.has(u));
    const missing = [...expected].filter((u) => !who.includes(u));
    if (ghosts.length) violate('online-iff-connected', `after the faults healed and the lease passed, WHO on host ${host} lists ${ghosts.join(', ')}, whom no open connection holds`, []);
    if (missing.length) violate('online-iff-connected', `WHO on host ${host} leaves out ${missing.join(', ')}, logged in on an open connection`, aliveAtFinal.filter((c) => missing.includes(userOf(c.conn)!)).map((c) => c.loginOk!.idx));
  });
  // WHO during the run, away from faults: a user whose every session had ended a while before
  // (their release had time to land) and who was not logging in is not listed; a user logged in
  // before the WHO and still connected after its reply is.
  // A fault counts from its start until AFTERMATH_MS after it healed (a lease running out, a
  // re-registration); unhealed ones until the end.
  const faultSpans: Array<[number, number]> = [];
  for (const [i, e] of ev.entries()) {
    if (e.kind !== 'nemesis' || e.phase !== 'start') continue;
    const healedAt = ev.slice(i + 1).find((x) => x.kind === 'nemesis' && x.phase === 'end' && x.fault === e.fault)?.t ?? Infinity;
    faultSpans.push([e.t, healedAt + AFTERMATH_MS]);
  }
  const faultIn = (from: number, to: number) => faultSpans.some(([a, b]) => a <= to && b >= from);
  for (const w of requests.filter((r) => r.type === Req.WHO && !r.final && r.body.room === undefined && outcome(r) === 'ok')) {
    const listed = new Set(w.reply!.frame.body.users as string[]);
    const quiet = (from: number) => !faultIn(from, w.reply!.t);
    for (const u of h.users) {
      const mine = sessions.filter((c) => userOf(c.conn) === u);
      // Every LOGIN of u that took or may have taken effect (not a refused one: a LOGIN refused
      // `unavailable` must not take effect), with the end of its connection.
      const attempts = logins.filter((l) => !l.final && (l.body.user ?? l.reply?.frame.body.user) === u && (outcome(l) === 'ok' || outcome(l) === 'info') && l.t < w.reply!.t);
      const endOf = (l: Request) => ended(conns.get(l.conn)!);
      const holding = attempts.some((l) => endOf(l) > w.t);
      const lastEnd = Math.max(-Infinity, ...attempts.map(endOf));
      if (listed.has(u) && attempts.length > 0 && !holding && lastEnd < w.t - RELEASE_GRACE_MS && quiet(lastEnd - RELEASE_GRACE_MS)) {
        violate('online-iff-connected', `WHO lists ${u}, whose last connection ended ${Math.round(w.t - lastEnd)} ms before (no fault, no LOGIN since)`, [...attempts.map((l) => l.idx), w.idx, w.reply!.idx]);
      }
      const surely = mine.some((c) => c.loginOk!.reply!.t < w.t && ended(c) > w.reply!.t);
      const firstLogin = Math.min(...mine.map((c) => c.loginOk!.reply!.t));
      if (!listed.has(u) && surely && quiet(firstLogin) && (w.reply!.frame.body.users as string[]).length < 1_000) {
        violate('online-iff-connected', `WHO leaves out ${u}, logged in before it on a connection still open after it (no fault)`, [w.idx, w.reply!.idx]);
      }
    }
  }

  const perUser = new Map<string, Conn[]>();
  for (const c of aliveAtFinal) perUser.set(userOf(c.conn)!, [...(perUser.get(userOf(c.conn)!) ?? []), c]);
  for (const [u, cs] of perUser) {
    if (cs.length > 1) violate('newest-login-wins', `${u} has ${cs.length} live sessions at once (connections ${cs.map((c) => `#${c.conn}`).join(', ')})`, cs.map((c) => c.loginOk!.idx));
  }
  for (const c of sessions) {
    if (c.replacedT === undefined) continue;
    const user = userOf(c.conn);
    const me = c.loginOk!;
    const newer = logins.find((l) => l !== me && (l.body.user ?? l.reply?.frame.body.user) === user && (outcome(l) === 'ok' || outcome(l) === 'info') && replyT(l) > me.t);
    if (!newer) {
      const tried = logins.filter((l) => l !== me && l.body.user === user && replyT(l) > me.t);
      violate('newest-login-wins', `connection #${c.conn} of ${user} got session_replaced, but no newer LOGIN of ${user} succeeded${tried.length ? ` (one was refused with ${tried.map((l) => String(l.reply?.frame.body.code)).join(', ')})` : ''}`, [me.idx, ...(me.reply ? [me.reply.idx] : []), ...tried.map((l) => l.idx), ...c.pushes.filter((i) => ev[i]!.t === c.replacedT)]);
    }
    if ((c.closedT ?? Infinity) >= endT && (c.hangupT ?? Infinity) >= endT) violate('newest-login-wins', `connection #${c.conn} got session_replaced but was not closed`, []);
  }

  // ---- rooms ----------------------------------------------------------------------------------------
  /** The session had ended by time t, or was being replaced (another LOGIN of its user was on its way). */
  const endedBy = (s: Conn, t: number) =>
    ended(s) < t || logins.some((l) => l !== s.loginOk && l.t > s.loginOk!.t && l.t < t && (l.body.user ?? l.reply?.frame.body.user) === userOf(s.conn));
  const says = requests.filter((r) => r.type === Req.SAY && !r.final);
  const sayByText = new Map(says.map((r) => [r.body.text as string, r]));
  const joins = requests.filter((r) => r.type === Req.JOIN);
  for (const c of conns.values()) {
    const seen = new Set<string>();
    const lastFrom = new Map<string, Request>();
    const presence = new Map<string, number>();
    for (const idx of c.pushes) {
      const e = ev[idx] as Extract<HistoryEvent, { kind: 'push' }>;
      const b = e.frame.body;
      const member = joins.some((j) => j.conn === c.conn && j.body.room === b.room && possible(j) && j.idx < idx);
      if (e.frame.type === Srv.ROOM) {
        const say = sayByText.get(String(b.text));
        if (!member) violate('room-as-said', `connection #${c.conn} got a ROOM frame of ${String(b.room)} without having joined it`, [idx]);
        if (!say) {
          violate('room-as-said', `ROOM frame ${short(String(b.text))} from ${String(b.from)}: nobody said that`, [idx]);
          continue;
        }
        if (say.user !== b.from || say.body.room !== b.room) violate('room-as-said', `ROOM frame says ${String(b.from)} in ${String(b.room)}, but ${say.user} said it in ${String(say.body.room)}`, [say.idx, idx]);
        if (!possible(say)) violate('room-as-said', `ROOM frame for a SAY refused with ${String(say.reply!.frame.body.code)}`, [say.idx, say.reply!.idx, idx]);
        if (say.conn === c.conn) violate('room-as-said', `the sender's own connection got its SAY back`, [say.idx, idx]);
        if (seen.has(String(b.text))) violate('room-as-said', `connection #${c.conn} got the same ROOM frame twice`, [say.idx, idx]);
        seen.add(String(b.text));
        const prev = lastFrom.get(`${String(b.from)}\u0000${String(b.room)}`);
        if (prev) {
          const earlier = prev.conn === say.conn ? say.idx < prev.idx : replyT(say) < prev.t;
          if (earlier) violate('room-as-said', `connection #${c.conn} got ${String(b.from)}'s ROOM frames out of order: ${short(String(prev.body.text))} before ${short(String(b.text))}, which was said first`, [say.idx, prev.idx, idx]);
        }
        lastFrom.set(`${String(b.from)}\u0000${String(b.room)}`, say);
      } else if (e.frame.type === Srv.PRESENCE) {
        if (!member) violate('presence-at-most-once', `connection #${c.conn} got PRESENCE of ${String(b.room)} without having joined it`, [idx]);
        const k = `${String(b.room)}\u0000${String(b.user)}\u0000${String(b.event)}`;
        presence.set(k, (presence.get(k) ?? 0) + 1);
        const causes =
          b.event === 'join'
            ? requests.filter((r) => r.type === Req.JOIN && r.user === b.user && r.body.room === b.room && possible(r) && r.t < e.t).length
            : requests.filter((r) => r.type === Req.LEAVE && r.user === b.user && r.body.room === b.room && possible(r) && r.t < e.t).length +
              sessions.filter((s) => userOf(s.conn) === b.user && endedBy(s, e.t) && s.requests.some((r) => r.type === Req.JOIN && r.body.room === b.room && possible(r))).length;
        if (presence.get(k)! > causes) violate('presence-at-most-once', `connection #${c.conn} got PRESENCE ${String(b.event)} of ${String(b.user)} in ${String(b.room)} ${presence.get(k)} times, more than ${String(b.user)} did it (${causes})`, [idx]);
      } else if (e.frame.type === Srv.WIZZED) {
        const k = `wizz\u0000${String(b.from)}`;
        presence.set(k, (presence.get(k) ?? 0) + 1);
        const me = userOf(c.conn);
        const causes = requests.filter((r) => r.type === Req.WIZZ && r.user === b.from && r.body.to === me && possible(r) && r.t < e.t).length;
        if (presence.get(k)! > causes) violate('wizz-at-most-once', `connection #${c.conn} got WIZZED from ${String(b.from)} ${presence.get(k)} times for ${causes} WIZZ`, [idx]);
      }
    }
  }
  // With no fault at all, a member that joined before a SAY was sent, never left, stayed connected
  // and kept reading gets the SAY's ROOM frame.
  if (!ev.some((e) => e.kind === 'nemesis' && e.t < finalT)) {
    for (const say of says.filter((r) => outcome(r) === 'ok')) {
      for (const c of conns.values()) {
        if (c.slot < 0 || c.conn === say.conn || userOf(c.conn) === say.user || !c.loginOk) continue;
        if (ended(c) < finalT || ev.some((e) => e.kind === 'reading' && e.conn === c.conn)) continue;
        const joined = c.requests.some((r) => r.type === Req.JOIN && r.body.room === say.body.room && outcome(r) === 'ok' && r.reply!.t < say.t);
        const left = c.requests.some((r) => r.type === Req.LEAVE && r.body.room === say.body.room && r.t < replyT(say));
        if (!joined || left) continue;
        const got = c.pushes.some((i) => {
          const e = ev[i] as Extract<HistoryEvent, { kind: 'push' }>;
          return e.frame.type === Srv.ROOM && e.frame.body.text === say.body.text;
        });
        if (!got) violate('room-delivered', `connection #${c.conn} of ${userOf(c.conn)}, a member of ${String(say.body.room)} since before the SAY, never got it (no fault in this history)`, [say.idx, say.reply!.idx]);
      }
    }
  }
  return out;
}

export function ruleText(rule: RuleId): { promise: string; quote: string } {
  return RULES[rule];
}
