// The connections shape of `npm run bench:server` (server/load/fanout.ts) counts what really
// happened to each connection: held only when the server answered it, and every other one under
// its own name — refused (server_full), closed, or open and silent in the window. Against a small
// server that serves some connections, refuses some, closes some, and stops answering one.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepare } from '../load/fanout.ts';
import { Srv } from '../protocol/codes.ts';
import { encodeFrame } from '../protocol/frame.ts';

const SERVED = 6;
const REFUSED = 3;
const CLOSED = 2;
const OK = encodeFrame(Srv.OK, { re: 1 });
const FULL = encodeFrame(Srv.ERROR, { code: 'server_full', message: 'the server is at its connection limit; try again later' });

describe('the bench’s connections shape', () => {
  let server: net.Server;
  let port: number;
  const sockets: net.Socket[] = [];
  beforeAll(async () => {
    let n = 0;
    server = net.createServer((s) => {
      const k = n++;
      sockets.push(s);
      s.on('error', () => {});
      if (k >= SERVED + REFUSED) return void s.destroy(); // closed without a word
      // The first PING of a refused connection gets server_full; every PING of a served one an OK,
      // except that the first served connection goes silent after set-up.
      let pings = 0;
      s.on('data', () => {
        pings++;
        if (k >= SERVED) s.end(FULL);
        else if (k !== 0 || pings === 1) s.write(OK);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });

  it('counts held, refused, closed and silent connections each under its own name', { timeout: 30_000 }, async () => {
    const run = await prepare({ shape: 'connections', protocol: 'wizz', port, count: SERVED + REFUSED + CLOSED, block: 1, perAddress: 10_000 });
    run.start();
    run.open();
    await new Promise((r) => setTimeout(r, 2_300));
    const result = run.stop();
    await run.close();
    expect(result.established, 'answered at set-up').toBe(SERVED);
    expect(result.open, 'held: answered in the window and still open').toBe(SERVED - 1);
    expect(result.errors.server_full).toBe(REFUSED);
    expect(result.errors.closed_at_setup).toBe(CLOSED);
    expect(result.errors.never_answered, 'the one that stopped answering').toBe(1);
    expect(result.errors.no_answer_within_1s, 'its PINGs in the window went unanswered').toBeGreaterThanOrEqual(1);
    expect(result.count).toBeGreaterThanOrEqual(SERVED - 1);
  });
});
