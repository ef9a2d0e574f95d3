import { describe, expect, it } from 'vitest';
import { EAGAIN, EPIPE, type Process } from '#kernel/index.ts';
import { Connection, deliver } from './connection.ts';

/** A stand-in process whose sockets accept `room` more bytes each, then EAGAIN (or a fixed errno). */
function fakeProc(room: number, errno?: number) {
  const written = new Map<number, number[]>();
  let calls = 0;
  const proc = {
    write(fd: number, data: Uint8Array): number {
      calls++;
      if (errno !== undefined) return -errno;
      const got = written.get(fd) ?? [];
      const n = Math.min(data.length, room - got.length);
      if (n === 0) return -EAGAIN;
      got.push(...data.subarray(0, n));
      written.set(fd, got);
      return n;
    },
  };
  return { proc: proc as unknown as Process, written, calls: () => calls, grow: (more: number) => (room += more) };
}
const bytes = (...xs: number[]) => Uint8Array.from(xs);

describe('Connection', () => {
  it('keeps what a partial write left and writes it, in order, once the socket takes more', () => {
    const k = fakeProc(3);
    const c = new Connection(5);
    c.queue(bytes(1, 2));
    c.queue(bytes(3, 4, 5));
    expect(c.flush(k.proc)).toBe('keep');
    expect(c.wantsWrite).toBe(true);
    expect(c.outboundBytes).toBe(2);
    k.grow(10);
    expect(c.flush(k.proc)).toBe('keep');
    expect(c.wantsWrite).toBe(false);
    expect(k.written.get(5)).toEqual([1, 2, 3, 4, 5]);
  });

  it('is mid-frame only while a queued chunk is partly written', () => {
    const k = fakeProc(3);
    const c = new Connection(5);
    c.queue(bytes(1, 2));
    c.queue(bytes(3, 4, 5));
    expect(c.midFrame).toBe(false); // nothing written yet: any frame may go first
    c.flush(k.proc); // takes 1, 2 whole and 3 of the second chunk
    expect(c.midFrame).toBe(true);
    k.grow(2);
    c.flush(k.proc); // 4, 5: the second chunk is written whole
    expect(c.midFrame).toBe(false);
    c.queue(bytes(6, 7));
    k.grow(2);
    c.flush(k.proc); // exactly one chunk fits: a boundary again
    expect(c.midFrame).toBe(false);
  });

  it('refuses bytes past its bound', () => {
    const c = new Connection(5, 4);
    expect(c.queue(bytes(1, 2, 3))).toBe(true);
    expect(c.queue(bytes(4, 5))).toBe(false);
    expect(c.outboundBytes).toBe(3);
  });

  it('asks to close after a failed write, or once a goodbye is written', () => {
    const c = new Connection(5);
    c.queue(bytes(1));
    expect(c.flush(fakeProc(10, EPIPE).proc)).toBe('close');
    const bye = new Connection(6);
    bye.queue(bytes(1));
    bye.closeAfterFlush = true;
    const k = fakeProc(0);
    expect(bye.flush(k.proc)).toBe('keep');
    k.grow(1);
    expect(bye.flush(k.proc)).toBe('close');
  });

  it('decodes frames split across reads', () => {
    const c = new Connection(5);
    const frame = bytes(0, 0, 0, 3, 0x0a, 0x7b, 0x7d); // PING {}
    expect(c.receive(frame.subarray(0, 5))).toEqual([]);
    expect(c.receive(frame.subarray(5))).toEqual([{ type: 0x0a, body: {} }]);
  });
});

describe('deliver', () => {
  it('writes to idle connections now, leaves waiting ones for writability, reports who to close', () => {
    const k = fakeProc(100);
    const idle = new Connection(4);
    const waiting = new Connection(5);
    waiting.queue(bytes(9)); // already waiting for the socket to drain
    const tiny = new Connection(6, 1);
    const conns = new Map([idle, waiting, tiny].map((c) => [c.fd, c]));
    const shared = bytes(1, 2);
    const close = deliver(
      k.proc,
      [
        { to: 4, bytes: shared },
        { to: 5, bytes: shared },
        { to: 6, bytes: shared },
        { to: 99, bytes: shared },
      ],
      conns,
    );
    expect(close).toEqual([6]);
    expect(k.written.get(4)).toEqual([1, 2]);
    expect(k.written.has(5)).toBe(false);
    expect(waiting.outboundBytes).toBe(3);
    expect(k.calls()).toBe(1);
  });

  it('closes a connection told goodbye once its bytes are written', () => {
    const k = fakeProc(100);
    const c = new Connection(4);
    expect(deliver(k.proc, [{ to: 4, bytes: bytes(1), close: true }], new Map([[4, c]]))).toEqual([4]);
  });
});
