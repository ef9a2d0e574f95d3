// The real-TCP bridge: a node net.Server on 127.0.0.1 whose connections each become an emulated
// connection to `port` on the emulated host, so `nc`, a browser or the wizz CLI client can talk to a
// lab server. Bytes flow both ways with backpressure; half-close, close and reset propagate.
import net from 'node:net';
import { EAGAIN, ECONNRESET, SHUT_WR, SOCK_NONBLOCK, SOL_SOCKET, SO_LINGER } from '../constants.ts';
import type { Kernel } from '../kernel.ts';
import type { Process } from '../process.ts';
import type { Socket } from '../socket.ts';

export interface BridgeOptions {
  /** The emulated port to connect to. */
  port: number;
  host?: string;
  /** The real TCP port to listen on (0 = any free port). */
  tcpPort?: number;
}

export interface Bridge {
  address: { host: string; port: number };
  close(): Promise<void>;
}

/** Pause the real socket once this many bytes wait to enter the emulated send buffer. */
const HIGH_WATER = 64 * 1024;

export async function bridge(kernel: Kernel, opts: BridgeOptions): Promise<Bridge> {
  if (kernel.clock.mode !== 'real') {
    throw new Error("bridge() needs a kernel with clock: 'real' — real sockets live in real time");
  }
  const host = opts.host ?? '127.0.0.1';
  const live = new Set<BridgedConnection>();
  const server = net.createServer({ allowHalfOpen: true }, (sock) => {
    const conn = new BridgedConnection(kernel, opts.port, sock, () => live.delete(conn));
    live.add(conn);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.tcpPort ?? 0, host, () => resolve());
  });
  const addr = server.address() as net.AddressInfo;
  return {
    address: { host, port: addr.port },
    close: async () => {
      for (const c of live) c.abort();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

class BridgedConnection {
  private readonly proc: Process;
  private readonly fd: number;
  private readonly emu: Socket;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private realEnded = false;
  private emuEof = false;
  private done = false;
  private scheduled = false;

  constructor(
    private readonly kernel: Kernel,
    port: number,
    private readonly real: net.Socket,
    private readonly onDone: () => void,
  ) {
    this.proc = kernel.spawn({ nofile: { soft: 8, hard: 8 } });
    this.fd = this.proc.socket(SOCK_NONBLOCK);
    this.emu = this.proc.fileOf(this.fd) as Socket;
    this.emu.addWatcher({ wake: () => this.schedule(), detach: () => {} });
    this.proc.connect(this.fd, port);
    real.on('data', (chunk: Buffer) => {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      if (this.pendingBytes > HIGH_WATER) real.pause();
      this.schedule();
    });
    real.on('end', () => {
      this.realEnded = true;
      this.schedule();
    });
    real.on('drain', () => this.schedule());
    // A real-side error (ECONNRESET, EPIPE…) or a close without FIN: reset the emulated side.
    real.on('error', () => this.abort());
    real.on('close', () => !this.done && this.abort());
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.done) return;
    this.scheduled = true;
    this.kernel.activity();
    queueMicrotask(() => {
      this.scheduled = false;
      if (!this.done) this.pump();
    });
  }

  private pump(): void {
    const s = this.emu;
    if (s.state === 'closed' && !s.finReceived && s.err) {
      // Refused or reset by the emulated server: reset the real connection too.
      this.done = true;
      this.real.resetAndDestroy();
      this.proc.close(this.fd);
      return this.onDone();
    }
    if (s.state !== 'established' && s.state !== 'closed') return; // still connecting
    // real → emulated
    while (this.pending.length > 0) {
      const head = this.pending[0]!;
      const n = this.proc.write(this.fd, head);
      if (n < 0) {
        if (n !== -EAGAIN) return this.abort();
        break;
      }
      this.pendingBytes -= n;
      if (n < head.length) {
        this.pending[0] = head.subarray(n);
        break;
      }
      this.pending.shift();
    }
    if (this.pendingBytes <= HIGH_WATER && this.real.isPaused()) this.real.resume();
    if (this.realEnded && this.pending.length === 0 && !s.writeShut) this.proc.shutdown(this.fd, SHUT_WR);
    // emulated → real, stopping while the real socket's buffer is full
    while (!this.emuEof && this.real.writableNeedDrain === false) {
      const chunk = new Uint8Array(16 * 1024);
      const n = this.proc.read(this.fd, chunk);
      if (n > 0) this.real.write(chunk.subarray(0, n));
      else if (n === 0) {
        this.emuEof = true;
        this.real.end();
      } else if (n === -ECONNRESET) {
        return this.abort();
      } else break;
    }
    if (this.emuEof && this.realEnded && this.pending.length === 0) {
      this.done = true;
      this.proc.close(this.fd);
      this.onDone();
    }
  }

  /** Resets both sides. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    this.proc.setsockopt(this.fd, SOL_SOCKET, SO_LINGER, { onoff: 1, linger: 0 });
    this.proc.close(this.fd);
    if (!this.real.destroyed) this.real.resetAndDestroy();
    this.onDone();
  }
}
