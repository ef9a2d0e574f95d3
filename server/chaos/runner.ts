// Runs one plan against a target and returns its history: sets up the run's users, plays the
// steps (client requests on their slots, connection actions, faults through the nemesis, which
// heals each after its time), then heals everything, waits for the system to settle, and makes
// the final reads the checker needs — a PING barrier on every connection still open, WHO from every
// host, a LOGIN for each user nobody holds (their backlog), and HISTORY of every pair from both sides.
import crypto from 'node:crypto';
import { Req, Srv } from '../protocol/codes.ts';
import { RecordedConn } from './client.ts';
import { KEYS, PASSWORD, SLOTS, USERS, ROOMS, kindOf, makeId, makeName, makeText, typeByte, type BuildContext, type Plan, type Step } from './generator.ts';
import { Recorder, type FinalReads, type History, type StoredMessage } from './history.ts';
import { findFault, type ActiveFault } from './nemesis.ts';
import type { Target } from './targets.ts';

const FINAL_WAIT_MS = 10_000;

export async function runPlan(target: Target, plan: Plan): Promise<History> {
  await target.ensureUp();
  const rec = new Recorder();
  const users = await registerUsers(target, plan.nameLengths);
  const tag = crypto.randomBytes(4).toString('hex');
  let connSeq = 0;
  let textSeq = 0;
  const slots: Array<RecordedConn | undefined> = new Array(SLOTS);
  const slotHost = Array.from({ length: SLOTS }, (_, i) => i % target.hosts);
  const all: RecordedConn[] = [];

  // A slot is a client program: when its connection is gone it reconnects, and logs in again as
  // the user it last logged in as (with the password: a client that has a token may RESUME instead).
  const lastUser: Array<string | undefined> = new Array(SLOTS);
  const lastToken: Array<string | undefined> = new Array(SLOTS);
  const open = async (slot: number, host: number): Promise<RecordedConn | undefined> => {
    const previous = slots[slot];
    if (previous?.user) lastUser[slot] = previous.user;
    if (previous?.token) lastToken[slot] = previous.token;
    let c: RecordedConn;
    try {
      c = await RecordedConn.open(rec, ++connSeq, slot, host, target.address(host));
    } catch {
      return undefined;
    }
    all.push(c);
    const user = lastUser[slot];
    const token = lastToken[slot];
    const resume = (Req as Record<string, number>).RESUME;
    if (token !== undefined && resume !== undefined) await c.send(resume, { id: `resume-${c.nextSeq()}`, token }).reply(400);
    else if (user !== undefined) await c.send(Req.LOGIN, { id: `relogin-${c.nextSeq()}`, user, password: PASSWORD }).reply(400);
    return c;
  };
  const ctx: BuildContext = {
    user: (i) => users[i]!,
    stranger: `zz_${tag}`,
    room: (i) => `#chaos-${tag}-${i}`,
    text: (spec) => makeText(textSeq++, spec),
    key: (i) => KEYS[i]!,
    token: (slot) => slots[slot]?.token ?? lastToken[slot],
    oldestSeen: (slot) => slots[slot]?.oldestSeen,
  };

  // The nemesis: one fault at a time; a new one waits until the previous has been healed.
  let active: Promise<void> = Promise.resolve();
  const seen = new Set<string>();
  const startFault = (step: Extract<Step, { do: 'fault' }>) => {
    const fault = findFault(target.kind, step.fault);
    if (!fault) return;
    seen.add(fault.name);
    active = active.then(async () => {
      rec.add({ kind: 'nemesis', fault: fault.name, phase: 'start', detail: '' });
      let a: ActiveFault;
      try {
        a = await fault.start(target, step.which, step.ms);
      } catch (err) {
        a = { detail: `failed: ${(err as Error).message}`, heal: async () => {} };
      }
      const startEvent = rec.events.findLast((e) => e.kind === 'nemesis' && e.phase === 'start');
      if (startEvent && startEvent.kind === 'nemesis') startEvent.detail = a.detail;
      await new Promise((r) => setTimeout(r, step.ms));
      try {
        await a.heal();
      } catch (err) {
        rec.add({ kind: 'mark', what: `heal of ${fault.name} failed: ${(err as Error).message}` });
      }
      rec.add({ kind: 'nemesis', fault: fault.name, phase: 'end', detail: a.detail });
    });
  };

  for (const step of plan.steps) {
    switch (step.do) {
      case 'req': {
        let c = slots[step.slot];
        if (!c || c.isClosed || c.hungUp) c = slots[step.slot] = await open(step.slot, slotHost[step.slot]!);
        if (!c) break;
        const kind = kindOf(step.req.type);
        const body = kind.body(step.req, step.slot, ctx);
        if (body === null) break;
        const sent = c.send(typeByte(step.req.type), { id: makeId(c.nextSeq(), step.id), ...body }, step.how);
        await sent.reply(step.wait);
        if (c.token) lastToken[step.slot] = c.token;
        break;
      }
      case 'close':
        slots[step.slot]?.hangup('end');
        break;
      case 'pause':
        slots[step.slot]?.pause();
        break;
      case 'resume':
        slots[step.slot]?.resume();
        break;
      case 'reconnect':
        slots[step.slot]?.hangup('end');
        slotHost[step.slot] = step.host % target.hosts;
        slots[step.slot] = await open(step.slot, slotHost[step.slot]!);
        break;
      case 'fault':
        startFault(step);
        break;
      case 'sleep':
        await new Promise((r) => setTimeout(r, step.ms));
        break;
    }
  }

  // Heal, settle, read.
  await active;
  await target.ensureUp();
  rec.add({ kind: 'mark', what: 'healed' });
  for (const c of all) c.resume();
  await new Promise((r) => setTimeout(r, target.settleMs(seen)));
  const final = await finalReads(target, rec, all, users, () => ++connSeq);
  for (const c of all) c.hangup('destroy');
  await Promise.all(all.map((c) => c.closed));
  return { startedAt: rec.startedAt, users, hosts: target.hosts, events: rec.events, final };
}

/** A connection to host 0, retried for a while: a server whose reactors are being replaced refuses for a moment. */
async function openPatiently(rec: Recorder, target: Target): Promise<RecordedConn> {
  const deadline = Date.now() + 40_000;
  for (;;) {
    try {
      return await RecordedConn.open(rec, 0, -1, 0, target.address(0));
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Registers the run's users (fresh names; a name taken by an earlier run is replaced). */
async function registerUsers(target: Target, lengths: number[]): Promise<string[]> {
  const rec = new Recorder(); // setup is not part of the history
  const names: string[] = [];
  for (let i = 0; i < USERS; i++) {
    for (let attempt = 0; ; attempt++) {
      const name = makeName(crypto.randomBytes(12).toString('hex'), i, lengths[i] ?? 8);
      const c = await openPatiently(rec, target);
      const reply = await c.send(Req.REGISTER, { id: 1, user: name, password: PASSWORD }).reply(FINAL_WAIT_MS);
      c.hangup('destroy');
      if (reply?.type === Srv.OK && !names.includes(name)) {
        names.push(name);
        break;
      }
      if (attempt >= 20) throw new Error(`could not register a user: ${JSON.stringify(reply?.body)}`);
    }
  }
  return names;
}

async function finalReads(target: Target, rec: Recorder, all: RecordedConn[], users: string[], nextConn: () => number): Promise<FinalReads> {
  const final: FinalReads = { who: [], stored: [], disagreements: [], problems: [] };
  rec.add({ kind: 'mark', what: 'final reads' });
  // The barrier: every connection still open answers a PING, so anything it still owes is late.
  const alive = all.filter((c) => !c.isClosed && !c.hungUp);
  await Promise.all(alive.map((c) => c.send(Req.PING, { id: 'barrier' }).reply(FINAL_WAIT_MS)));
  await new Promise((r) => setTimeout(r, 200));

  const ask = async (c: RecordedConn, type: number, body: Record<string, unknown>, what: string): Promise<Record<string, unknown> | null> => {
    const reply = await c.send(type, { id: `final-${c.nextSeq()}`, ...body }).reply(FINAL_WAIT_MS);
    if (reply?.type === Srv.OK) return reply.body;
    final.problems.push(`${what}: ${reply ? JSON.stringify(reply.body) : 'no reply'}`);
    return null;
  };

  // WHO from every host, through a fresh connection that logs in as nobody (WHO needs a login: the
  // first user's session would be replaced, so an observer account of its own).
  const observer = `o${crypto.randomBytes(8).toString('hex')}`;
  for (let h = 0; h < target.hosts; h++) {
    const c = await RecordedConn.open(rec, nextConn(), -1, h, target.address(h)).catch(() => undefined);
    if (!c) {
      final.who.push(null);
      continue;
    }
    all.push(c);
    if (h === 0) await ask(c, Req.REGISTER, { user: observer, password: PASSWORD }, 'REGISTER of the observer');
    const ok = (await ask(c, Req.LOGIN, { user: observer, password: PASSWORD }, `LOGIN of the observer on host ${h}`)) !== null;
    const who = ok ? await ask(c, Req.WHO, {}, `WHO on host ${h}`) : null;
    final.who.push(who ? (who.users as string[]).filter((u) => users.includes(u)) : null);
    c.hangup('destroy');
  }

  // A fresh LOGIN per user (replacing any session a client still holds): it brings whatever of
  // that user's DMs was never written to a connection, so every acknowledged DM must have arrived
  // somewhere by now.
  const reader = new Map<string, RecordedConn>();
  for (const [i, u] of users.entries()) {
    const c = await RecordedConn.open(rec, nextConn(), -1, i % target.hosts, target.address(i % target.hosts)).catch(() => undefined);
    if (!c) continue;
    all.push(c);
    const login = await ask(c, Req.LOGIN, { user: u, password: PASSWORD }, `final LOGIN of ${u}`);
    if (!login) continue;
    reader.set(u, c);
    const pending = login.pending as number;
    const deadline = Date.now() + FINAL_WAIT_MS;
    while (c.messages < pending && !c.isClosed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  // HISTORY of every pair (a user with themself too), paged to the end, from both sides.
  const byId = new Map<number, StoredMessage>();
  for (const [i, a] of users.entries()) {
    for (const b of users.slice(i)) {
      const views: string[] = [];
      for (const [me, other] of a === b ? [[a, b]] : [[a, b], [b, a]]) {
        const c = reader.get(me!);
        if (!c) {
          final.problems.push(`no connection of ${me} for the final HISTORY`);
          continue;
        }
        const got: StoredMessage[] = [];
        let before: number | undefined;
        for (let page = 0; page < 50; page++) {
          const r = await ask(c, Req.HISTORY, { with: other, limit: 100, ...(before === undefined ? {} : { before }) }, `HISTORY of ${me} with ${other}`);
          const msgs = (r?.messages ?? []) as StoredMessage[];
          if (msgs.length === 0) break;
          got.push(...msgs);
          before = msgs.at(-1)!.msgId;
        }
        views.push(JSON.stringify(got));
        for (const m of got) byId.set(m.msgId, m);
      }
      if (views.length === 2 && views[0] !== views[1]) final.disagreements.push(`HISTORY of ${a} with ${b} differs from HISTORY of ${b} with ${a}`);
    }
  }
  final.stored = [...byId.values()].sort((x, y) => x.msgId - y.msgId);
  await new Promise((r) => setTimeout(r, 150)); // late MESSAGE frames are recorded too
  rec.add({ kind: 'mark', what: 'end' });
  return final;
}

export { ROOMS };
