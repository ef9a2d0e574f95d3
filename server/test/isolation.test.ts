// A failure while handling one request, or one event from the router, ends at most that
// connection: the reactor logs the bug and everybody else carries on. (Bugs are provoked here
// through the seams: a database answer that cannot be put in a frame, an error message that
// cannot, an event that cannot.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dbWith, startWired, type Wired } from '../testing/wired.ts';
import { LinkError, type DownMsg } from '../router/link.ts';
import { eventually, loggedIn } from '../testing/helpers.ts';
import { Req, Srv } from '../protocol/codes.ts';

const HUGE = 'x'.repeat(70_000); // more than a frame holds

describe('one failing request or event', () => {
  let server: Wired;
  const logged: string[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (err: unknown) => unhandled.push(err);
  let poison: 'history-row' | 'history-error' | null = null;
  let injectEvent: string | null = null;
  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    server = await startWired({
      log: (line) => logged.push(line),
      wrapDb: (db) =>
        dbWith(db, {
          history: async (a, b, before, limit) => {
            if (poison === 'history-row') return [{ msgId: 2, from: a, to: b, text: 10n as unknown as string, ts: 2 }]; // JSON cannot hold it
            if (poison === 'history-error') throw new LinkError('unavailable', HUGE); // an ERROR that cannot be encoded
            return db.history(a, b, before, limit);
          },
        }),
      tapDown: (batch) => {
        if (!injectEvent) return batch;
        const room = injectEvent;
        injectEvent = null;
        return [...batch, { k: 'ev', ev: { e: 'room', room, from: 'nobody', text: HUGE, ts: 1 } } satisfies DownMsg];
      },
    });
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await server?.stop();
  });

  it('a handler that fails with a bug gets ERROR unavailable; the connection stays', async () => {
    const a = await loggedIn(server.port);
    const b = await loggedIn(server.port);
    poison = 'history-row';
    const reply = await a.client.request(Req.HISTORY, { with: b.user });
    poison = null;
    expect(reply.type).toBe(Srv.ERROR);
    expect(reply.body.code).toBe('unavailable');
    expect((await a.client.request(Req.PING, {})).type).toBe(Srv.OK);
    expect(logged.some((l) => l.includes('failed'))).toBe(true);
    await Promise.all([a.client.close(), b.client.close()]);
  });

  it('an error path that fails closes only that connection; the others are served', async () => {
    const a = await loggedIn(server.port);
    const other = await loggedIn(server.port);
    const before = server.reactor.connectionCount;
    poison = 'history-error';
    a.client.post(Req.HISTORY, { with: other.user });
    // Its connection, and only it, ends.
    await Promise.race([a.client.closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the failing connection was not closed')), 5_000))]);
    poison = null;
    await eventually(() => server.reactor.connectionCount === before - 1);
    expect((await other.client.request(Req.PING, {})).type).toBe(Srv.OK);
    const c = await loggedIn(server.port);
    await c.client.call(Req.SEND, { to: other.user, text: 'still here' });
    expect((await other.client.nextPush((f) => f.type === Srv.MESSAGE)).body.text).toBe('still here');
    await Promise.all([other.client.close(), c.client.close()]);
  });

  it('an event that cannot be delivered is logged and skipped; the room goes on', async () => {
    const a = await loggedIn(server.port);
    const b = await loggedIn(server.port);
    await a.client.call(Req.JOIN, { room: '#iso' });
    await b.client.call(Req.JOIN, { room: '#iso' });
    const count = logged.length;
    injectEvent = '#iso';
    await a.client.call(Req.SAY, { room: '#iso', text: 'after the bad one' });
    expect((await b.client.nextPush((f) => f.type === Srv.ROOM)).body.text).toBe('after the bad one');
    expect(logged.length).toBeGreaterThan(count);
    await eventually(() => server.reactor.connectionCount === 2); // the earlier tests' clients are gone, these two stay
    expect(unhandled).toEqual([]);
    await Promise.all([a.client.close(), b.client.close()]);
  });
});
