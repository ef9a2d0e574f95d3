// The terminal client against both kinds of server: it must tell a lab server (`npm run lab`) from
// the reference server and offer what each serves, and it must never print control characters raw.
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Kernel, bridge } from '#kernel/index.ts';
import { runServer } from '../../solutions/01-select/server.ts';
import { startHarness, type Harness } from '../testing/harness.ts';
import { tempDir, uniqueUser } from '../testing/helpers.ts';
import * as password from '../db/password.ts';
import { WizzClient } from './wizz-client.ts';
import { detectServer } from './detect.ts';
import { formatPush, printable } from './format.ts';
import { Req, Srv } from '../protocol/codes.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let reference: Harness;
let lab: { port: number; stop(): Promise<void> };

beforeAll(async () => {
  reference = await startHarness({ dbFile: path.join(tempDir(), 'wizz.db') });
  const kernel = new Kernel({ clock: 'real' });
  const controller = new AbortController();
  const serving = runServer(kernel.spawn(), { port: 7101, signal: controller.signal });
  const tcp = await bridge(kernel, { port: 7101, host: '127.0.0.1', tcpPort: 0 });
  lab = {
    port: tcp.address.port,
    stop: async () => {
      controller.abort();
      await serving.catch(() => undefined);
      await tcp.close();
    },
  };
});
afterAll(async () => {
  await lab?.stop();
  await reference?.stop();
});

describe('detectServer', () => {
  it('knows a lab server: it answers WHO at once with #lobby, where the new connection already is', async () => {
    const c = await WizzClient.connect(lab.port);
    const kind = await detectServer(c);
    expect(kind.kind).toBe('lab');
    expect(kind.kind === 'lab' && kind.members.length).toBe(1); // this connection, as guest<fd>
    await c.close();
  });
  it('knows the reference server: WHO before LOGIN is unauthenticated, and nothing changed', async () => {
    const c = await WizzClient.connect(reference.ports[0]!);
    expect(await detectServer(c)).toEqual({ kind: 'reference' });
    expect((await c.request(Req.PING, {})).type).toBe(Srv.OK);
    await c.close();
  });
});

/** Runs the CLI with lines on stdin (one every 300 ms, or after `at(i)` resolves), returning what it printed. */
function cli(port: number, lines: string[], user = 'alice', at?: (i: number, out: () => string) => Promise<void>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'server/client/main.ts'), '--port', String(port), '--user', user], {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(out.replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''));
    });
    child.on('error', reject);
    // Wait for the banner before typing.
    const started = setInterval(() => {
      if (!/connected to/.test(out)) return;
      clearInterval(started);
      if (!at) lines.forEach((l, i) => setTimeout(() => child.stdin.write(`${l}\n`), 300 * (i + 1)));
      else
        void (async () => {
          for (const [i, l] of lines.entries()) {
            await at(i, () => out);
            child.stdin.write(`${l}\n`);
          }
        })();
    }, 50);
  });
}

describe('the CLI', () => {
  it('against a lab server: no accounts offered, already in #lobby, talks at once; /quit is quiet', async () => {
    const listener = await WizzClient.connect(lab.port);
    const out = await cli(lab.port, ['hello from the cli', '/register secret', '/help', '/quit']);
    expect(out).toMatch(/connected to a lab server .* #lobby, and you are in it as alice/);
    expect(out).not.toMatch(/\/register <password>|join a room first/);
    expect(out).toMatch(/\/register is not served by a lab server/);
    expect(out).toMatch(/\/login <name>/);
    expect(out).not.toMatch(/\/msg|\/history/);
    const heard = await listener.nextPush((f) => f.type === Srv.ROOM);
    expect(heard.body).toMatchObject({ from: 'alice', text: 'hello from the cli' });
    expect(out).not.toMatch(/connection closed by the server/);
    await listener.close();
  }, 30_000);

  it('against the reference server: the account commands, as before', async () => {
    const out = await cli(reference.ports[0]!, ['/quit'], 'bob');
    expect(out).toMatch(/\/register <password> then \/login <password>/);
    expect(out).not.toMatch(/lab server|connection closed by the server/);
  }, 30_000);
});

describe('the CLI\'s flags', () => {
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'server/client/main.ts'), ...args], { cwd: root, encoding: 'utf8', timeout: 20_000 });
  it('--help prints the usage and exits 0; an unknown flag is one line, then the usage, exit 2', () => {
    const help = run('--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run client -- \[--user NAME\]/);
    const bad = run('--colour', 'red');
    expect(bad.status).toBe(2);
    expect(bad.stderr.split('\n')[0]).toMatch(/Unknown option '--colour'/);
    expect(bad.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('the CLI resumes a dropped session', () => {
  it('the connection drops after /login: it reconnects and RESUMEs with its token, never re-sending the password', async () => {
    // A relay between the CLI and the server whose connections the test can cut.
    const live = new Set<net.Socket>();
    const relay = net.createServer((down) => {
      const up = net.connect(reference.ports[0]!, '127.0.0.1');
      for (const s of [down, up]) {
        live.add(s);
        s.on('error', () => {});
        s.on('close', () => live.delete(s));
      }
      down.pipe(up).pipe(down);
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    const user = uniqueUser('cli');
    const verify = vi.spyOn(password, 'verifyPassword');
    const waitFor = async (re: RegExp, out: () => string) => {
      const deadline = Date.now() + 15_000;
      while (!re.test(out()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    };
    let checksBeforeDrop = -1;
    const out = await cli((relay.address() as net.AddressInfo).port, ['/register correct-horse-battery', '/login correct-horse-battery', '/who', '/quit'], user, async (i, text) => {
      if (i === 1) await waitFor(/registered/, text);
      if (i === 2) {
        await waitFor(/logged in as/, text);
        checksBeforeDrop = verify.mock.calls.length;
        for (const s of live) s.destroy(); // the network drops both legs
        await waitFor(/resumed as/, text);
      }
      if (i === 3) await waitFor(/online:/, text);
    });
    relay.close();
    const checksAfter = verify.mock.calls.length;
    verify.mockRestore();
    expect(out).toMatch(new RegExp(`connection lost; resuming your session as ${user}`));
    expect(out).toMatch(new RegExp(`resumed as ${user}`));
    expect(out).toMatch(new RegExp(`online: .*${user}`)); // logged in again
    expect(checksBeforeDrop).toBeGreaterThan(0);
    expect(checksAfter).toBe(checksBeforeDrop); // RESUME checked no password
    expect(out).not.toMatch(/connection closed by the server/);
  }, 40_000);
});

describe('text from others is shown escaped', () => {
  it('escape sequences, bells, newlines and bidi overrides never reach the terminal raw', () => {
    const line = formatPush({ type: Srv.ROOM, body: { room: '#lobby', from: 'e\x1b[31mve', text: 'hi\x1b]0;owned\x07\nthere\u202e!\x9b', ts: 0 } }, null);
    expect(line).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202e]/);
    expect(line).toContain('<e\\x1b[31mve> hi\\x1b]0;owned\\x07\\nthere\\u202e!\\x9b');
  });
  it('leaves ordinary text, accents and emoji alone', () => {
    expect(printable('héllo wörld 👋 — ok')).toBe('héllo wörld 👋 — ok');
  });
});
