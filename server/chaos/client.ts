// One client connection whose every byte in and out is recorded: requests as `invoke`, replies and
// pushed frames as they are decoded, hang-ups and closes. It can misbehave the ways a real client
// does — close right after writing a request, half-close, stop reading for a while.
import net from 'node:net';
import { encodeFrame, FrameDecoder, type Frame } from '../protocol/frame.ts';
import { Req, Srv } from '../protocol/codes.ts';
import { idKey, type How, type Recorder } from './history.ts';

export class RecordedConn {
  private readonly decoder = new FrameDecoder();
  private readonly waiters = new Map<string, (f: Frame | null) => void>();
  private readonly sentTypes = new Map<string, { type: number; body: Record<string, unknown> }>();
  private seq = 0;
  isClosed = false;
  hungUp = false;
  readonly closed: Promise<void>;
  /** What the client learned: the user it logged in as, its token, the oldest msgId seen in HISTORY. */
  user: string | undefined;
  token: string | undefined;
  oldestSeen: number | undefined;
  /** Every MESSAGE frame received (for the final reads' pending count). */
  messages = 0;

  private constructor(
    private readonly rec: Recorder,
    readonly conn: number,
    private readonly socket: net.Socket,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.decoder.decode(chunk, (frame) => this.receive(frame));
      } catch (err) {
        socket.destroy(err as Error);
      }
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true;
        this.rec.add({ kind: 'closed', conn });
        for (const w of this.waiters.values()) w(null);
        this.waiters.clear();
        resolve();
      }),
    );
  }

  static open(rec: Recorder, conn: number, slot: number, host: number, address: { host: string; port: number }, timeoutMs = 5_000): Promise<RecordedConn> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: address.host, port: address.port });
      const timer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${timeoutMs} ms`)), timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        rec.add({ kind: 'open', conn, slot, host });
        resolve(new RecordedConn(rec, conn, socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        rec.add({ kind: 'refused', slot, host, error: err.message });
        reject(err);
      });
    });
  }

  nextSeq(): number {
    return ++this.seq;
  }

  /** Writes a request (then hangs up if `how` says so) and resolves with its reply, or null if the connection closed first or `waitMs` passed. */
  send(type: number, body: Record<string, unknown>, how: How = 'normal'): { reply(waitMs: number): Promise<Frame | null> } {
    const key = idKey(body.id);
    let reply: Frame | null | undefined;
    const got = new Promise<Frame | null>((resolve) => {
      this.waiters.set(key, (f) => {
        reply = f;
        resolve(f);
      });
    });
    if (this.isClosed) {
      this.waiters.delete(key);
      return { reply: async () => null };
    }
    this.rec.add({ kind: 'invoke', conn: this.conn, type, body, how });
    this.sentTypes.set(key, { type, body });
    this.socket.write(encodeFrame(type, body));
    if (how === 'drop') this.hangup('destroy');
    else if (how === 'halfclose') this.hangup('end');
    return {
      reply: (waitMs) => {
        if (reply !== undefined) return Promise.resolve(reply);
        if (waitMs <= 0) return Promise.resolve(null);
        let timer: NodeJS.Timeout;
        return Promise.race([got, new Promise<null>((r) => (timer = setTimeout(() => r(null), waitMs)))]).finally(() => clearTimeout(timer));
      },
    };
  }

  hangup(how: 'end' | 'destroy'): void {
    if (this.isClosed || (this.hungUp && how === 'end')) return;
    this.hungUp = true;
    this.rec.add({ kind: 'hangup', conn: this.conn, how });
    if (how === 'end') {
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 3_000).unref();
    } else this.socket.destroy();
  }

  pause(): void {
    if (this.isClosed || this.socket.isPaused()) return;
    this.socket.pause();
    this.rec.add({ kind: 'reading', conn: this.conn, paused: true });
  }

  resume(): void {
    if (this.isClosed || !this.socket.isPaused()) return;
    this.socket.resume();
    this.rec.add({ kind: 'reading', conn: this.conn, paused: false });
  }

  get paused(): boolean {
    return this.socket.isPaused();
  }

  /** What the client needs later: its user after LOGIN (or RESUME), its token, the oldest msgId HISTORY showed. */
  private learn(key: string, reply: Frame): void {
    const sent = this.sentTypes.get(key);
    this.sentTypes.delete(key);
    if (!sent || reply.type !== Srv.OK) return;
    if (sent.type === Req.LOGIN || sent.type === (Req as Record<string, number>).RESUME) {
      this.user = typeof reply.body.user === 'string' ? reply.body.user : (sent.body.user as string);
      if (typeof reply.body.token === 'string') this.token = reply.body.token;
    }
    if (sent.type === Req.HISTORY && Array.isArray(reply.body.messages)) {
      for (const m of reply.body.messages as Array<{ msgId: number }>) this.oldestSeen = Math.min(this.oldestSeen ?? Infinity, m.msgId);
    }
  }

  private receive(frame: Frame): void {
    const re = frame.body.re;
    if ((frame.type === Srv.OK || frame.type === Srv.ERROR) && re !== undefined) {
      this.rec.add({ kind: 'reply', conn: this.conn, frame });
      const key = idKey(re);
      this.learn(key, frame);
      const w = this.waiters.get(key);
      this.waiters.delete(key);
      w?.(frame);
      return;
    }
    if (frame.type === Srv.MESSAGE) this.messages++;
    if (frame.type === Srv.ERROR && frame.body.code === 'session_replaced') this.user = undefined;
    this.rec.add({ kind: 'push', conn: this.conn, frame });
  }
}
