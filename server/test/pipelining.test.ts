// A SAY whose routing is confirmed later (across hosts: when Redis took the PUBLISH) must not hold
// up the requests after it, and every reply must still come in request order — including an ERROR
// for a SAY the router could not route. Here the router is the real one with `say` slowed down.
import { afterEach, describe, expect, it } from 'vitest';
import { startWired, routerWith, type Wired } from '../testing/wired.ts';
import { Req, Srv } from '../protocol/codes.ts';
import { LinkError } from '../router/link.ts';
import { loggedIn } from '../testing/helpers.ts';
import { PIPELINE_MAX } from '../reactor/replies.ts';
import type { WizzClient } from '../client/wizz-client.ts';

const DELAY_MS = 150;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface SlowSay {
  server: Wired;
  /** When the router was asked to route each SAY (ms since start), in order. */
  asked: Array<{ text: string; at: number }>;
  /** The most SAYs the router had in hand at once. */
  maxInFlight: () => number;
}

/** A server whose router confirms each SAY after DELAY_MS, and refuses texts starting with "fail". */
async function slowSayServer(): Promise<SlowSay> {
  const t0 = Date.now();
  const asked: SlowSay['asked'] = [];
  let inFlight = 0;
  let max = 0;
  const server = await startWired({
    wrapRouter: (router) =>
      routerWith(router, {
        async say(room, from, text, ts) {
          asked.push({ text, at: Date.now() - t0 });
          max = Math.max(max, ++inFlight);
          try {
            await sleep(DELAY_MS);
            if (text.startsWith('fail')) throw new LinkError('unavailable', 'the room could not be reached');
            await router.say(room, from, text, ts);
          } finally {
            inFlight--;
          }
        },
      }),
  });
  return { server, asked, maxInFlight: () => max };
}

/** Sends every request at once; returns each reply's id and kind in the order the replies arrived. */
async function pipeline(c: WizzClient, requests: Array<[number, Record<string, unknown>]>): Promise<string[]> {
  const arrived: string[] = [];
  await Promise.all(
    requests.map(([type, body], i) =>
      c.request(type, body).then((f) => arrived.push(`${i}:${f.type === Srv.OK ? 'OK' : String(f.body.code)}`)),
    ),
  );
  return arrived;
}

describe('a pipelined SAY (its OK waits for the router, the next requests do not)', () => {
  let slow: SlowSay | null = null;
  afterEach(async () => {
    await slow?.server.stop();
    slow = null;
  });

  it('the requests after a SAY run while it waits, and every reply comes in request order', async () => {
    slow = await slowSayServer();
    const { client } = await loggedIn(slow.server.port);
    await client.call(Req.JOIN, { room: '#p' });
    const replies = await pipeline(client, [
      [Req.SAY, { room: '#p', text: 'one' }],
      [Req.PING, {}],
      [Req.SAY, { room: '#p', text: 'two' }],
      [Req.WHO, { room: '#p' }],
    ]);
    expect(replies).toEqual(['0:OK', '1:OK', '2:OK', '3:OK']);
    const [one, two] = slow.asked;
    // Handled one at a time, the second SAY would reach the router only after the first was confirmed.
    expect(two!.at - one!.at, 'the second SAY waited for the first one\'s confirmation').toBeLessThan(DELAY_MS * 0.8);
  });

  it('a SAY the router cannot route gets ERROR unavailable in its turn; the others are answered', async () => {
    slow = await slowSayServer();
    const { client } = await loggedIn(slow.server.port);
    await client.call(Req.JOIN, { room: '#p' });
    const replies = await pipeline(client, [
      [Req.SAY, { room: '#p', text: 'fine' }],
      [Req.SAY, { room: '#p', text: 'fail, please' }],
      [Req.PING, {}],
      [Req.SAY, { room: '#elsewhere', text: 'not a member' }],
      [Req.SAY, { room: '#p', text: 'fine again' }],
    ]);
    expect(replies).toEqual(['0:OK', '1:unavailable', '2:OK', '3:not_member', '4:OK']);
    expect(client.isClosed).toBe(false);
  });

  it(`at most ${PIPELINE_MAX} SAYs of one session wait for the router at once; all are answered in order`, async () => {
    slow = await slowSayServer();
    const { client } = await loggedIn(slow.server.port);
    await client.call(Req.JOIN, { room: '#p' });
    const n = PIPELINE_MAX * 2 + 5;
    const replies = await pipeline(
      client,
      Array.from({ length: n }, (_, i) => [Req.SAY, { room: '#p', text: `m${i}` }] as [number, Record<string, unknown>]),
    );
    expect(replies).toEqual(Array.from({ length: n }, (_, i) => `${i}:OK`));
    expect(slow.maxInFlight()).toBeGreaterThan(1);
    expect(slow.maxInFlight()).toBeLessThanOrEqual(PIPELINE_MAX);
  });
});
