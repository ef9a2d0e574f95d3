// The server as an operator runs it: restart keeps accounts and stored messages, SIGTERM (even
// twice) exits 0 after flushing, and an acknowledged message survives kill -9 of every process.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import Database from 'better-sqlite3';
import { loggedIn, startServerProcess, tempDir } from '../testing/helpers.ts';
import { WizzClient } from '../client/wizz-client.ts';
import { Req } from '../protocol/codes.ts';

describe('the server process', () => {
  it('keeps accounts and undelivered messages across a graceful restart (SIGTERM twice → exit 0)', async () => {
    const db = path.join(tempDir(), 'wizz.db');
    let server = await startServerProcess(['--reactors', '1', '--port', '0', '--db', db]);
    const a = await loggedIn(server.port, 'restart_alice');
    const bob = await WizzClient.connect(server.port);
    await bob.call(Req.REGISTER, { user: 'restart_bob', password: 'correct horse' });
    await bob.close();
    const sent = await a.client.call(Req.SEND, { to: 'restart_bob', text: 'see you after the restart' });
    server.child.kill('SIGTERM');
    server.child.kill('SIGTERM'); // as under `npm start`: a second signal must not abort the flush
    expect(await server.exited).toBe(0);
    expect(server.output()).toMatch(/database flushed and closed/);
    await a.client.closed;

    server = await startServerProcess(['--reactors', '2', '--port', '0', '--db', db]);
    const b = await loggedIn(server.port, 'restart_bob', false);
    expect(b.login.pending).toBe(1);
    const history = (await b.client.call(Req.HISTORY, { with: 'restart_alice' })).messages as Array<Record<string, unknown>>;
    expect(history).toEqual([{ msgId: sent.msgId, from: 'restart_alice', to: 'restart_bob', text: 'see you after the restart', ts: sent.ts }]);
    await b.client.close();
    expect(await server.stop('SIGINT')).toBe(0);
  });

  it('an acknowledged message survives kill -9 of every server process', async () => {
    const db = path.join(tempDir(), 'wizz.db');
    const server = await startServerProcess(['--reactors', '2', '--port', '0', '--db', db]);
    const a = await loggedIn(server.port, 'crash_alice');
    const b = await loggedIn(server.port, 'crash_bob');
    const acked: number[] = [];
    const sends = Array.from({ length: 40 }, (_, i) =>
      a.client.call(Req.SEND, { to: 'crash_bob', text: `m${i}` }).then((r) => acked.push(r.msgId as number)),
    );
    await Promise.all(sends);
    server.child.kill('SIGKILL'); // the reactors exit when their IPC channel to the primary drops
    await server.exited;
    await Promise.all([a.client.closed, b.client.closed]);
    const check = new Database(db, { readonly: true });
    const stored = check.prepare('SELECT id FROM messages ORDER BY id').pluck().all() as number[];
    check.close();
    expect(stored).toEqual(acked.sort((x, y) => x - y));
  });
});
