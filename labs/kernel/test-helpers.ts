// Shared set-up for the kernel's own tests: a listening server process and raw connected pairs.
import { SOCK_NONBLOCK } from './constants.ts';
import { Kernel, type KernelOptions } from './kernel.ts';
import type { Process } from './process.ts';

export const PORT = 7000;

export function world(opts: KernelOptions = {}) {
  const kernel = new Kernel({ clock: 'virtual', seed: 1, ...opts });
  const server = kernel.spawn();
  const peer = kernel.spawn();
  const listener = server.socket(SOCK_NONBLOCK);
  if (server.bind(listener, PORT) !== 0 || server.listen(listener, 128) !== 0) throw new Error('listen failed');
  /** A connection: `s` is the server's accepted fd, `c` the fd in the peer process. Both non-blocking. */
  const pair = (): { s: number; c: number } => {
    const c = peer.socket(SOCK_NONBLOCK);
    peer.connect(c, PORT);
    const s = server.accept4(listener, SOCK_NONBLOCK);
    if (s < 0) throw new Error(`accept failed: ${s}`);
    return { s, c };
  };
  return { kernel, server, peer, listener, pair };
}

export function bytes(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** Reads until EAGAIN/EOF; returns everything read and the last result. */
export function drain(proc: Process, fd: number, chunk = 4096): { data: Uint8Array; last: number } {
  const parts: Uint8Array[] = [];
  let last = 0;
  for (let i = 0; i < 100_000; i++) {
    const buf = new Uint8Array(chunk);
    last = proc.read(fd, buf);
    if (last <= 0) break;
    parts.push(buf.subarray(0, last));
  }
  const total = parts.reduce((n, p) => n + p.length, 0);
  const data = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    data.set(p, at);
    at += p.length;
  }
  return { data, last };
}
