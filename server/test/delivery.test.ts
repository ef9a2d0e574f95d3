// Delivery guarantees: a stored message is marked delivered only once its bytes were written to
// the recipient's socket. The LOGIN backlog is paced by the reader (never cut off as slow), nothing
// is lost to a reader that stops or vanishes, live DMs the same; and a JOIN's local membership
// exists before any event that follows the JOIN reply on the link.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWired, dbWith, type Wired } from '../testing/wired.ts';
import type { DownMsg } from '../router/link.ts';
import { WizzClient } from '../client/wizz-client.ts';
import { Req, Srv } from '../protocol/codes.ts';
import { encodeFrame, type Frame } from '../protocol/frame.ts';
import { eventually, loggedIn, PASSWORD, registered, uniqueUser } from '../testing/helpers.ts';

/** ≈ 24 KB once JSON-escaped: 4,000 control characters become \u0001 each. */
const CONTROL_TEXT = '\u0001'.repeat(4_000);

async function sendMany(from: WizzClient, to: string, n: number, text = CONTROL_TEXT): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i += 50) {
    const replies = await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => from.call(Req.SEND, { to, text })));
    ids.push(...replies.map((r) => r.msgId as number));
  }
  return ids;
}

/** LOGIN on a fresh connection that counts MESSAGE frames; resolves with the reply (or null if cut off first). */
async function login(port: number, user: string) {
  const c = await WizzClient.connect(port);
  const messages: number[] = [];
  const errors: string[] = [];
  c.retainPushed = false;
  c.onPush = (f) => {
    if (f.type === Srv.MESSAGE) messages.push(f.body.msgId as number);
    else if (f.type === Srv.ERROR) errors.push(String(f.body.code));
  };
  const reply = await Promise.race([c.request(Req.LOGIN, { user, password: PASSWORD }), c.closed.then(() => null)]);
  return { c, reply, messages, errors };
}

describe('the LOGIN backlog', () => {
  let server: Wired;
  beforeAll(async () => {
    server = await startWired();
  });
  afterAll(() => server?.stop());

  it('200 DMs of ≈ 24 KB each: a reading client gets all 200 and is not cut off; the next LOGIN has none', { timeout: 60_000 }, async () => {
    const alice = await loggedIn(server.port);
    const bob = await registered(server.port);
    const ids = await sendMany(alice.client, bob, 200);
    const first = await login(server.port, bob);
    expect(first.reply?.body).toMatchObject({ pending: 200 });
    await eventually(() => first.messages.length === 200 || first.c.isClosed, 20_000);
    expect(first.errors).toEqual([]);
    expect(first.messages).toEqual(ids);
    await first.c.close();
    // Every one was written, so every one is marked delivered (the marks are batched per tick).
    await eventually(async () => {
      const again = await login(server.port, bob);
      await again.c.close();
      return again.reply?.body.pending === 0;
    }, 5_000);
    await alice.client.close();
  });

  it('a reader that stops reading and leaves loses nothing that was not written', { timeout: 60_000 }, async () => {
    const alice = await loggedIn(server.port);
    const bob = await registered(server.port);
    const ids = await sendMany(alice.client, bob, 200);
    // LOGIN, then never read: the server writes what the kernel takes and waits for the rest.
    const c = await WizzClient.connect(server.port);
    c.socket.pause();
    c.writeRaw(encodeFrame(Req.LOGIN, { id: 1, user: bob, password: PASSWORD }));
    await new Promise((r) => setTimeout(r, 500));
    c.socket.destroy();
    await new Promise((r) => setTimeout(r, 200));
    const next = await login(server.port, bob);
    const pending = next.reply!.body.pending as number;
    // Some went into the kernel's buffers (written: delivered, as documented); far from all of them.
    expect(pending).toBeGreaterThan(0);
    await eventually(() => next.messages.length === pending, 20_000);
    expect(next.messages).toEqual(ids.slice(200 - pending)); // exactly the ones never written, in order
    await Promise.all([next.c.close(), alice.client.close()]);
  });
});

describe('a LOGIN client that never reads its backlog', () => {
  let server: Wired;
  beforeAll(async () => {
    server = await startWired({ limits: { maxStallMs: 500 } });
  });
  afterAll(() => server?.stop());

  it('is cut off as slow_consumer once it took nothing for the stall time; the next LOGIN has the rest', { timeout: 60_000 }, async () => {
    const alice = await loggedIn(server.port);
    const bob = await registered(server.port);
    const ids = await sendMany(alice.client, bob, 200);
    const c = await WizzClient.connect(server.port);
    c.socket.pause();
    c.writeRaw(encodeFrame(Req.LOGIN, { id: 1, user: bob, password: PASSWORD }));
    await eventually(() => server.reactor.connectionCount === 1, 10_000); // only alice is left
    c.socket.destroy();
    const next = await login(server.port, bob);
    const pending = next.reply!.body.pending as number;
    expect(pending).toBeGreaterThan(0);
    await eventually(() => next.messages.length === pending, 20_000);
    expect(next.messages).toEqual(ids.slice(200 - pending));
    await Promise.all([next.c.close(), alice.client.close()]);
  });
});

describe('a LOGIN whose socket goes away while the backlog is read', () => {
  let server: Wired;
  let hold: { reached: () => void; release: Promise<void> } | null = null;
  beforeAll(async () => {
    server = await startWired({
      wrapDb: (db) =>
        dbWith(db, {
          pending: async (user: string, limit: number) => {
            const rows = await db.pending(user, limit);
            const h = hold;
            if (h) {
              h.reached();
              await h.release;
            }
            return rows;
          },
        }),
    });
  });
  afterAll(() => server?.stop());

  it('loses nothing: the next LOGIN has every message', { timeout: 30_000 }, async () => {
    const alice = await loggedIn(server.port);
    const bob = await registered(server.port);
    const ids = await sendMany(alice.client, bob, 20, 'short');
    let release!: () => void;
    let reached!: () => void;
    const atPending = new Promise<void>((r) => (reached = r));
    hold = { reached, release: new Promise<void>((r) => (release = r)) };
    const c = await WizzClient.connect(server.port);
    c.writeRaw(encodeFrame(Req.LOGIN, { id: 1, user: bob, password: PASSWORD }));
    await atPending; // the backlog was read from the database …
    c.socket.resetAndDestroy(); // … and the client is gone (a reset) before any of it is sent
    await eventually(() => server.reactor.connectionCount === 1); // only alice
    hold = null;
    release();
    await new Promise((r) => setTimeout(r, 100));
    const next = await login(server.port, bob);
    expect(next.reply!.body.pending).toBe(20);
    await eventually(() => next.messages.length === 20);
    expect(next.messages).toEqual(ids);
    await Promise.all([next.c.close(), alice.client.close()]);
  });

  it('after a FIN, LOGIN is still answered and its backlog sent — and the next LOGIN has all of it again', { timeout: 30_000 }, async () => {
    // A FIN is all the server sees of a client that closed its socket outright, as of one that only
    // half-closed and still reads: the requests read before it are answered, but a MESSAGE written
    // after it is not recorded as delivered — the client may never read it.
    const alice = await loggedIn(server.port);
    const bob = await registered(server.port);
    const ids = await sendMany(alice.client, bob, 20, 'short');
    let release!: () => void;
    let reached!: () => void;
    const atPending = new Promise<void>((r) => (reached = r));
    hold = { reached, release: new Promise<void>((r) => (release = r)) };
    const c = await WizzClient.connect(server.port);
    const got: number[] = [];
    c.retainPushed = false;
    c.onPush = (f) => f.type === Srv.MESSAGE && got.push(f.body.msgId as number);
    const reply = c.request(Req.LOGIN, { id: 1, user: bob, password: PASSWORD });
    await atPending;
    c.socket.end(); // half-close: nothing more to say, still reading
    await new Promise((r) => setTimeout(r, 100));
    hold = null;
    release();
    expect((await reply).body).toMatchObject({ re: 1, user: bob, pending: 20 });
    await c.closed; // the server ends its side once LOGIN is done
    expect(got).toEqual(ids);
    const next = await login(server.port, bob);
    expect(next.reply!.body.pending).toBe(20);
    await eventually(() => next.messages.length === 20);
    expect(next.messages).toEqual(ids);
    await Promise.all([next.c.close(), alice.client.close()]);
  });
});

describe('live direct messages', () => {
  let server: Wired;
  beforeAll(async () => {
    server = await startWired();
  });
  afterAll(() => server?.stop());

  it('are marked delivered when written, not when queued: what a recipient cut off as slow did not get comes at its next LOGIN', { timeout: 60_000 }, async () => {
    const alice = await loggedIn(server.port);
    const bob = await loggedIn(server.port);
    const got: number[] = [];
    bob.client.retainPushed = false;
    bob.client.onPush = (f) => f.type === Srv.MESSAGE && got.push(f.body.msgId as number);
    bob.client.socket.pause(); // stops reading: the kernel buffers fill, then the server's queue
    const ids: number[] = [];
    const deadline = Date.now() + 30_000;
    while (server.reactor.connectionCount === 2 && Date.now() < deadline && ids.length < 2_000) {
      ids.push(...(await sendMany(alice.client, bob.user, 25)));
    }
    await eventually(() => server.reactor.connectionCount === 1, 10_000); // bob was cut off (slow_consumer)
    // Bob reads what reached his socket before the cut: everything the server wrote.
    bob.client.socket.resume();
    await bob.client.closed;
    // Nothing acknowledged is lost: each message came in the first session or at a later LOGIN
    // (at most 1,000 per LOGIN: log in until none is pending).
    const seen = new Set(got);
    let firstPending = -1;
    for (let round = 0; round < 5; round++) {
      const next = await login(server.port, bob.user);
      const pending = next.reply!.body.pending as number;
      if (firstPending < 0) firstPending = pending;
      await eventually(() => next.messages.length === pending, 20_000);
      for (const id of next.messages) seen.add(id);
      await next.c.close();
      if (pending === 0) break;
      await new Promise((r) => setTimeout(r, 50)); // the delivered marks are batched per tick
    }
    expect(firstPending).toBeGreaterThan(0);
    expect(ids.filter((id) => !seen.has(id))).toEqual([]);
    await alice.client.close();
  });
});

describe('JOIN', () => {
  it('records local membership before the events that follow the JOIN reply in the same batch', async () => {
    let inject: string | null = null;
    const server = await startWired({
      // The primary answers the JOIN and, in the same batch, forwards a ROOM event said right after it.
      tapDown: (batch) => {
        if (!inject) return batch;
        const out: DownMsg[] = [];
        for (const msg of batch) {
          out.push(msg);
          if (msg.k === 'res' && msg.ok && (msg.value as { members?: unknown })?.members) {
            out.push({ k: 'ev', ev: { e: 'room', room: inject, from: 'someone_else', text: 'right after you joined', ts: Date.now() } });
          }
        }
        return out;
      },
    });
    try {
      const a = await loggedIn(server.port);
      inject = `#race${process.pid % 1000}`;
      const got = new Promise<Frame>((resolve) => (a.client.onPush = (f) => f.type === Srv.ROOM && resolve(f)));
      await a.client.call(Req.JOIN, { room: inject });
      const frame = await Promise.race([got, new Promise<null>((r) => setTimeout(() => r(null), 1_000))]);
      expect(frame?.body, 'the ROOM frame that followed the JOIN reply was dropped').toMatchObject({ room: inject, text: 'right after you joined' });
      await a.client.close();
    } finally {
      await server.stop();
    }
  });

  it('under traffic, a joiner gets every ROOM frame the hub handled after its JOIN', { timeout: 60_000 }, async () => {
    const server = await startWired();
    try {
      const room = `#busy${process.pid % 1000}`;
      const speaker = await loggedIn(server.port);
      const listener = await loggedIn(server.port);
      await speaker.client.call(Req.JOIN, { room });
      await listener.client.call(Req.JOIN, { room });
      // The listener's frames follow the hub's order: after it hears "j joined", every ROOM it
      // hears was handled by the hub after j's JOIN, so j (on the same reactor) must hear it too.
      const log: Array<{ joined?: string; left?: string; seq?: number }> = [];
      listener.client.retainPushed = false;
      listener.client.onPush = (f) => {
        if (f.type === Srv.ROOM) log.push({ seq: Number(f.body.text) });
        else if (f.type === Srv.PRESENCE) log.push(f.body.event === 'join' ? { joined: String(f.body.user) } : { left: String(f.body.user) });
      };
      let seq = 0;
      let talking = true;
      const talk = (async () => {
        while (talking) await Promise.all(Array.from({ length: 8 }, () => speaker.client.call(Req.SAY, { room, text: String(seq++) })));
      })();
      const heardBy = new Map<string, Set<number>>();
      for (let i = 0; i < 30; i++) {
        const j = await loggedIn(server.port, uniqueUser('j'));
        const heard = new Set<number>();
        heardBy.set(j.user, heard);
        j.client.retainPushed = false;
        j.client.onPush = (f) => f.type === Srv.ROOM && heard.add(Number(f.body.text));
        await j.client.call(Req.JOIN, { room });
        await new Promise((r) => setTimeout(r, 30));
        await j.client.call(Req.LEAVE, { room });
        await j.client.close();
      }
      talking = false;
      await talk;
      await new Promise((r) => setTimeout(r, 100));
      let owed = 0;
      let dropped = 0;
      for (const [user, heard] of heardBy) {
        const from = log.findIndex((e) => e.joined === user);
        const to = log.findIndex((e) => e.left === user);
        expect(from).toBeGreaterThanOrEqual(0);
        for (const e of log.slice(from + 1, to < 0 ? undefined : to)) {
          if (e.seq === undefined) continue;
          owed++;
          if (!heard.has(e.seq)) dropped++;
        }
      }
      expect(owed).toBeGreaterThan(100); // the test saw traffic
      expect(dropped).toBe(0);
      await Promise.all([speaker.client.close(), listener.client.close()]);
    } finally {
      await server.stop();
    }
  });
});
