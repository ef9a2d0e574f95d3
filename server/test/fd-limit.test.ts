// A reactor at its open-file limit refuses, it does not hang. The primary accepts every connection
// and hands its descriptor to a reactor over IPC; a reactor with no descriptor left loses it (the
// kernel drops it, recvmsg sets MSG_CTRUNC), Node's cluster then never hears the reactor's answer
// and hands that reactor nothing more: every later connection sat accepted and unanswered in the
// primary, even after the others closed. Here the whole server runs under `prlimit --nofile=200`
// with one reactor, and gets more connections than that: each one is answered, refused with
// server_full, or closed — none is left silent — the reactor says why in its log, and once the
// connections are gone a new one is served again.
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../testing/helpers.ts';
import { Req, Srv } from '../protocol/codes.ts';
import { encodeFrame } from '../protocol/frame.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const hasPrlimit = process.platform === 'linux' && spawnSync('prlimit', ['--version']).status === 0;
const LIMIT = 200;
const CONNECTIONS = 260;
const PING = encodeFrame(Req.PING, { id: 1 });

type Outcome = 'answered' | 'server_full' | 'closed' | 'silent' | 'other';

/** Connects, PINGs, and says what became of it within `silentMs`. */
async function pingOnce(port: number, silentMs: number): Promise<{ socket: net.Socket; outcome: Promise<Outcome> }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const outcome = new Promise<Outcome>((resolve) => {
    let got = Buffer.alloc(0);
    const timer = setTimeout(() => resolve('silent'), silentMs);
    const settle = (o: Outcome) => (clearTimeout(timer), resolve(o));
    socket.on('data', (chunk: Buffer) => {
      got = Buffer.concat([got, chunk]);
      if (got.length < 5) return;
      if (got[4] === Srv.OK) settle('answered');
      else settle(got.includes('server_full') ? 'server_full' : 'other');
    });
    socket.on('close', () => settle('closed'));
  });
  socket.write(PING);
  return { socket, outcome };
}

describe('the open-file limit', () => {
  it.skipIf(!hasPrlimit)(`under prlimit --nofile=${LIMIT}, ${CONNECTIONS} connections: each answered, refused or closed, never silent; service resumes`, { timeout: 90_000 }, async () => {
    const db = path.join(tempDir(), 'wizz.db');
    const args = ['--port', '0', '--db', db, '--reactors', '1', '--max-connections', '100000', '--login-timeout', '0'];
    const child = spawn('prlimit', [`--nofile=${LIMIT}:${LIMIT}`, process.execPath, '--import', 'tsx', 'server/main.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the server did not start:\n${out}`)), 60_000);
        const onData = (d: Buffer) => {
          out += d.toString();
          const m = /listening on [\d.]+:(\d+)/.exec(out);
          if (m) (clearTimeout(timer), resolve(Number(m[1])));
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', onData);
        child.once('exit', (code) => reject(new Error(`the server exited (${code}):\n${out}`)));
      });
      const conns = [];
      for (let i = 0; i < CONNECTIONS; i++) conns.push(await pingOnce(port, 10_000));
      const tally: Record<Outcome, number> = { answered: 0, server_full: 0, closed: 0, silent: 0, other: 0 };
      for (const c of conns) tally[await c.outcome]++;
      expect(tally.silent, `connections neither answered, refused nor closed: ${JSON.stringify(tally)}\n${out}`).toBe(0);
      expect(tally.other, JSON.stringify(tally)).toBe(0);
      expect(tally.answered, `${JSON.stringify(tally)}: the reactor should hold what its limit leaves room for`).toBeGreaterThan(LIMIT / 4);
      expect(tally.answered).toBeLessThan(LIMIT);
      expect(tally.server_full, JSON.stringify(tally)).toBeGreaterThan(0);
      expect(out).toMatch(/reactor: \d+ connections, as many as its open-file limit leaves room for .*server_full/);

      for (const c of conns) c.socket.destroy();
      // The reactor notices the closes; then the primary still hands it connections.
      let after: Outcome = 'silent';
      for (let attempt = 0; attempt < 20 && after !== 'answered'; attempt++) {
        await new Promise((r) => setTimeout(r, 250));
        const c = await pingOnce(port, 5_000);
        after = await c.outcome;
        c.socket.destroy();
      }
      expect(after, `after every connection closed, a new one was ${after}:\n${out}`).toBe('answered');
    } finally {
      child.kill('SIGKILL'); // prlimit execs node: this is the primary; its reactor exits when the IPC channel closes
      await exited;
    }
  });
});
