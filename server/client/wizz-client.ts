// A small promise-based wizz client over real TCP: the CLI, the load generator and the tests use it.
// request() matches replies by id; everything else the server pushes (MESSAGE, ROOM, PRESENCE,
// WIZZED, and ERROR frames without `re`) goes to the event queue and the `onPush` listener.
import net from 'node:net';
import { encodeFrame, FrameDecoder, type Frame } from '../protocol/frame.ts';
import { Srv } from '../protocol/codes.ts';

export class RequestFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly body: Record<string, unknown>,
  ) {
    super(`${code}: ${message}`);
  }
}

export class WizzClient {
  private readonly decoder = new FrameDecoder();
  private nextId = 1;
  private readonly waiting = new Map<string | number, (frame: Frame) => void>();
  private readonly pushed: Frame[] = [];
  private readonly pushWaiters: Array<{ match(f: Frame): boolean; resolve(f: Frame): void }> = [];
  onPush: (frame: Frame) => void = () => {};
  /** Keep pushed frames for nextPush(); the load generator turns this off and counts in onPush. */
  retainPushed = true;
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(readonly socket: net.Socket) {
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
      socket.on('close', () => {
        this.isClosed = true;
        resolve();
      }),
    );
  }

  /** `localAddress` picks the client's own address (on Linux any of 127.0.0.0/8 works on loopback). */
  static connect(port: number, host = '127.0.0.1', timeoutMs = 10_000, localAddress?: string): Promise<WizzClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(localAddress ? { host, port, localAddress } : { host, port });
      const timer = setTimeout(() => socket.destroy(new Error(`connect to ${host}:${port} timed out`)), timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', reject);
        resolve(new WizzClient(socket));
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  /** Sends one request and resolves with its reply frame (OK or ERROR). */
  request(type: number, body: Record<string, unknown> = {}, timeoutMs = 15_000): Promise<Frame> {
    const id = body.id !== undefined ? (body.id as string | number) : this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`no reply to request ${id} (type 0x${type.toString(16)}) within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, (frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
      this.socket.write(encodeFrame(type, { ...body, id }));
    });
  }

  /** Like request(), but resolves with the OK body and rejects with RequestFailed on ERROR. */
  async call(type: number, body: Record<string, unknown> = {}, timeoutMs?: number): Promise<Record<string, unknown>> {
    const reply = await this.request(type, body, timeoutMs);
    if (reply.type === Srv.OK) return reply.body;
    throw new RequestFailed(String(reply.body.code), String(reply.body.message), reply.body);
  }

  /** Fire and forget (the reply still arrives and is matched or dropped). */
  post(type: number, body: Record<string, unknown>): void {
    this.socket.write(encodeFrame(type, { id: this.nextId++, ...body }));
  }

  /** The next pushed frame matching `match` (already received ones first). */
  nextPush(match: (f: Frame) => boolean = () => true, timeoutMs = 10_000): Promise<Frame> {
    const i = this.pushed.findIndex(match);
    if (i >= 0) return Promise.resolve(this.pushed.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (f: Frame) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        this.pushWaiters.splice(this.pushWaiters.indexOf(waiter), 1);
        reject(new Error(`no matching pushed frame within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pushWaiters.push(waiter);
    });
  }

  /** Pushed frames received and not yet taken by nextPush(). */
  drainPushed(): Frame[] {
    return this.pushed.splice(0);
  }

  writeRaw(bytes: Uint8Array): void {
    this.socket.write(bytes);
  }

  close(): Promise<void> {
    this.socket.end();
    setTimeout(() => this.socket.destroy(), 1_000).unref();
    return this.closed;
  }

  private receive(frame: Frame): void {
    const re = frame.body.re as string | number | undefined;
    if ((frame.type === Srv.OK || frame.type === Srv.ERROR) && re !== undefined) {
      const waiter = this.waiting.get(re);
      if (waiter) {
        this.waiting.delete(re);
        waiter(frame);
        return;
      }
    }
    this.onPush(frame);
    const w = this.pushWaiters.findIndex((x) => x.match(frame));
    if (w >= 0) this.pushWaiters.splice(w, 1)[0]!.resolve(frame);
    else if (this.retainPushed) this.pushed.push(frame);
  }
}
