// The wire: frames split one byte at a time, many frames in one write, and every way a frame can
// be bad (the server answers bad_frame and closes, judging the length from the header alone).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import net from 'node:net';
import path from 'node:path';
import { startHarness, type Harness } from '../testing/harness.ts';
import { loggedIn, PASSWORD, registered, tempDir, uniqueUser } from '../testing/helpers.ts';
import { WizzClient } from '../client/wizz-client.ts';
import { Req, Srv } from '../protocol/codes.ts';
import { encodeFrame, FrameDecoder, FrameError, MAX_FRAME_LENGTH, type Frame } from '../protocol/frame.ts';
import { FramePool } from '../pool/frame-pool.ts';

let h: Harness;
let port: number;
beforeAll(async () => {
  h = await startHarness({ dbFile: path.join(tempDir(), 'wizz.db') });
  port = h.ports[0]!;
});
afterAll(() => h?.stop());

function header(length: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(length);
  return b;
}

function rawFrame(type: number, json: string): Uint8Array {
  const body = Buffer.from(json);
  return Buffer.concat([header(body.length + 1), Buffer.from([type]), body]);
}

async function expectBadFrame(bytes: Uint8Array): Promise<void> {
  const c = await WizzClient.connect(port);
  c.writeRaw(bytes);
  const err = await c.nextPush((f) => f.type === Srv.ERROR);
  expect(err.body.code).toBe('bad_frame');
  expect(typeof err.body.message).toBe('string');
  await c.closed; // the server closes the connection
}

describe('the frame codec', () => {
  it('reassembles any cut of a stream of frames, parsing whole frames in place', () => {
    const frames = fc.array(fc.record({ type: fc.integer({ min: 1, max: 255 }), body: fc.dictionary(fc.string(), fc.string()) }), { maxLength: 8 });
    fc.assert(
      fc.property(frames, fc.array(fc.nat(), { maxLength: 10 }), (list, cuts) => {
        const stream = Buffer.concat(list.map((f) => encodeFrame(f.type, f.body)));
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const d = new FrameDecoder();
        const out = [];
        let prev = 0;
        for (const p of [...points, stream.length]) {
          out.push(...d.push(stream.subarray(prev, p)));
          prev = p;
        }
        expect(out).toEqual(list);
        expect(d.pending).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('rejects a bad length from the header alone, and stays poisoned', () => {
    const d = new FrameDecoder();
    expect(() => d.push(header(MAX_FRAME_LENGTH + 1))).toThrow(FrameError);
    expect(() => d.push(encodeFrame(1, {}))).toThrow(FrameError);
    expect(() => new FrameDecoder().push(header(0))).toThrow(/length 0/);
    // A header split 2+2 is judged when its 4th byte arrives.
    const split = new FrameDecoder();
    expect(split.push(header(MAX_FRAME_LENGTH + 1).subarray(0, 2))).toEqual([]);
    expect(() => split.push(header(MAX_FRAME_LENGTH + 1).subarray(2))).toThrow(/exceeds/);
  });

  it('decode() hands over the good frames before a bad one', () => {
    const d = new FrameDecoder();
    const got: number[] = [];
    const stream = Buffer.concat([encodeFrame(1, {}), encodeFrame(2, {}), header(0)]);
    expect(() => d.decode(stream, (f) => got.push(f.type))).toThrow(FrameError);
    expect(got).toEqual([1, 2]);
  });

  it('the pool encodes the same bytes as encodeFrame and reuses slabs', () => {
    const pool = new FramePool();
    for (let i = 0; i < 5_000; i++) {
      const body = { i, text: 'é'.repeat(i % 300) };
      const f = pool.encode(0x84, body);
      expect(Buffer.compare(f.bytes, Buffer.from(encodeFrame(0x84, body)))).toBe(0);
      f.release();
    }
    expect(pool.stats.slabsReused).toBeGreaterThan(0);
    expect(pool.stats.slabsAllocated).toBeLessThan(5);
    expect(() => pool.encode(0x84, { text: 'x'.repeat(MAX_FRAME_LENGTH) })).toThrow(FrameError);
  });
});

describe('frames over a real socket', () => {
  it('understands requests written one byte at a time', async () => {
    const c = await WizzClient.connect(port);
    const user = uniqueUser();
    const bytes = Buffer.concat([
      encodeFrame(Req.REGISTER, { id: 1, user, password: PASSWORD }),
      encodeFrame(Req.LOGIN, { id: 2, user, password: PASSWORD }),
      encodeFrame(Req.PING, { id: 3 }),
    ]);
    const got: Array<Promise<unknown>> = [];
    for (const id of [1, 2, 3]) got.push(new Promise((resolve) => (c as any).waiting.set(id, resolve)));
    for (let i = 0; i < bytes.length; i++) {
      c.socket.write(bytes.subarray(i, i + 1));
      if (i % 16 === 0) await new Promise((r) => setImmediate(r));
    }
    const [reg, login, ping] = (await Promise.all(got)) as Array<{ type: number; body: Record<string, unknown> }>;
    expect(reg).toEqual({ type: Srv.OK, body: { re: 1 } });
    expect(login).toEqual({ type: Srv.OK, body: { re: 2, user, pending: 0, token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) } });
    expect(ping).toEqual({ type: Srv.OK, body: { re: 3 } });
    await c.close();
  });

  it('answers several frames in one write, in order', async () => {
    const c = await WizzClient.connect(port);
    const user = uniqueUser();
    const order: unknown[] = [];
    const done = new Promise<void>((resolve) => {
      for (const id of ['a', 'b', 'c', 'd']) {
        (c as any).waiting.set(id, (f: { body: Record<string, unknown> }) => {
          order.push(f.body.re);
          if (order.length === 4) resolve();
        });
      }
    });
    c.writeRaw(
      Buffer.concat([
        encodeFrame(Req.REGISTER, { id: 'a', user, password: PASSWORD }),
        encodeFrame(Req.LOGIN, { id: 'b', user, password: PASSWORD }),
        encodeFrame(Req.JOIN, { id: 'c', room: '#coalesced' }),
        encodeFrame(Req.WHO, { id: 'd' }),
      ]),
    );
    await done;
    expect(order).toEqual(['a', 'b', 'c', 'd']);
    await c.close();
  });

  it('bad_frame: length 0, length over 65,536 (before any body byte), not JSON, not an object, unknown type', async () => {
    await expectBadFrame(header(0));
    await expectBadFrame(header(MAX_FRAME_LENGTH + 1)); // no body byte is ever sent
    await expectBadFrame(header(0xffffffff));
    await expectBadFrame(rawFrame(Req.PING, '{"id":1'));
    await expectBadFrame(rawFrame(Req.PING, '[1,2]'));
    await expectBadFrame(rawFrame(Req.PING, '"text"'));
    await expectBadFrame(rawFrame(Req.PING, 'null'));
    await expectBadFrame(Buffer.concat([header(3), Buffer.from([Req.PING, 0xff, 0xfe])])); // not UTF-8
    await expectBadFrame(rawFrame(0x0e, '{"id":1}')); // past PASSWORD, the last request type
    await expectBadFrame(rawFrame(0x00, '{"id":1}'));
    await expectBadFrame(rawFrame(Srv.OK, '{"re":1}'));
  });

  it('answers the good frames before a bad one in the same write', async () => {
    const c = await WizzClient.connect(port);
    const ping = new Promise((resolve) => (c as any).waiting.set(9, resolve));
    c.writeRaw(Buffer.concat([encodeFrame(Req.PING, { id: 9 }), header(0)]));
    expect(await ping).toEqual({ type: Srv.OK, body: { re: 9 } });
    expect((await c.nextPush((f) => f.type === Srv.ERROR)).body.code).toBe('bad_frame');
    await c.closed;
  });

  it('a frame of exactly 65,536 bytes is accepted', async () => {
    const c = await WizzClient.connect(port);
    const base = JSON.stringify({ id: 1, pad: '' });
    const body = JSON.stringify({ id: 1, pad: 'x'.repeat(MAX_FRAME_LENGTH - 1 - base.length) });
    expect(Buffer.byteLength(body) + 1).toBe(MAX_FRAME_LENGTH);
    const reply = new Promise((resolve) => (c as any).waiting.set(1, resolve));
    c.writeRaw(rawFrame(Req.PING, body));
    expect(await reply).toEqual({ type: Srv.OK, body: { re: 1 } });
    await c.close();
  });
});

/** Writes `bytes`, half-closes (FIN), and collects every frame until the server closes (bounded in time). */
function sendThenHalfClose(bytes: Uint8Array, timeoutMs = 10_000): Promise<Frame[]> {
  return new Promise((resolve, reject) => {
    const frames: Frame[] = [];
    const decoder = new FrameDecoder();
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.end(bytes));
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close within ${timeoutMs} ms; got ${frames.length} frames: ${JSON.stringify(frames.map((f) => f.body)).slice(0, 400)}`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => frames.push(...decoder.push(chunk)));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(frames);
    });
  });
}

describe('a client that half-closes', () => {
  it('gets the reply to every request it sent before its FIN, in order, then the server closes', async () => {
    const other = await registered(port);
    const user = await registered(port);
    const sender = await loggedIn(port);
    for (const text of ['one', 'two', 'three']) await sender.client.call(Req.SEND, { to: user, text });
    const text = `sent before the FIN ${Date.now()}`;
    const requests = [
      encodeFrame(Req.LOGIN, { id: 'login', user, password: PASSWORD }),
      ...Array.from({ length: 5 }, (_, i) => encodeFrame(Req.PING, { id: `p${i}` })),
      encodeFrame(Req.SEND, { id: 'send', to: other, text, key: 'half-close' }),
      encodeFrame(Req.HISTORY, { id: 'history', with: other }),
      encodeFrame(Req.REGISTER, { id: 'register', user: uniqueUser(), password: PASSWORD }),
      encodeFrame(Req.JOIN, { id: 'join', room: '#half-close' }),
      // More than the 64 the server decodes before it stops reading: the FIN waits behind them.
      ...Array.from({ length: 150 }, (_, i) => encodeFrame(Req.PING, { id: i })),
      encodeFrame(Req.PING, { id: 'after' }),
    ];
    const cutShort = encodeFrame(Req.PING, { id: 'never whole' }).subarray(0, 9);
    const frames = await sendThenHalfClose(Buffer.concat([...requests, cutShort]));
    const replies = frames.filter((f) => f.type === Srv.OK || f.type === Srv.ERROR);
    expect(replies.map((f) => f.body.re)).toEqual(['login', 'p0', 'p1', 'p2', 'p3', 'p4', 'send', 'history', 'register', 'join', ...Array.from({ length: 150 }, (_, i) => i), 'after']);
    expect(replies.every((f) => f.type === Srv.OK)).toBe(true);
    expect(replies.find((f) => f.body.re === 'history')!.body.messages).toEqual([expect.objectContaining({ text, to: other })]);
    // The backlog LOGIN owed came too, oldest first.
    expect(frames.filter((f) => f.type === Srv.MESSAGE).map((f) => f.body.text)).toEqual(['one', 'two', 'three']);
    // What was answered was done: the SEND is stored, and the key retried gets its msgId.
    const again = await loggedIn(port, user, false);
    const retry = await again.client.call(Req.SEND, { to: other, text, key: 'half-close' });
    expect(retry.msgId).toBe(replies.find((f) => f.body.re === 'send')!.body.msgId);
    await Promise.all([sender.client.close(), again.client.close()]);
  });

  it('that sent nothing, or only part of a frame, is closed at once', async () => {
    expect(await sendThenHalfClose(new Uint8Array(0))).toEqual([]);
    expect(await sendThenHalfClose(encodeFrame(Req.PING, { id: 1 }).subarray(0, 7))).toEqual([]);
  });
});
