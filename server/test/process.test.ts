// The server as people run it. First `npm start -- --reactors 2 --port 0` (cluster, connections
// dealt round-robin): delivery between every pair of clients, session replacement, and Ctrl-C
// (SIGINT to the whole process group, so the primary hears it more than once, and says so once) →
// exit 0 after the flush. Then a restart on the same database with one reactor: accounts and undelivered messages
// are still there, and acknowledged messages survive kill -9 of every server process.
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import Database from 'better-sqlite3';
import { loggedIn, registered, startServerProcess, tempDir } from '../testing/helpers.ts';
import { Req, Srv } from '../protocol/codes.ts';

describe.sequential('the server process', () => {
  const db = path.join(tempDir(), 'wizz.db');
  let offline: Record<string, unknown>;

  it('npm start --reactors 2 --port 0: prints its port, delivers across reactors, exits 0 on Ctrl-C', { timeout: 120_000 }, async () => {
    const server = await startServerProcess(['--reactors', '2', '--port', '0', '--db', db, '--scrypt-log-n', '12'], { npm: true });
    expect(server.output()).toMatch(/listening on 127\.0\.0\.1:\d+ \(2 reactors/);
    const clients = [];
    for (let i = 0; i < 4; i++) clients.push(await loggedIn(server.port)); // dealt round-robin to 2 reactors
    for (const from of clients) {
      for (const to of clients) {
        if (from === to) continue;
        await from.client.call(Req.SEND, { to: to.user, text: `${from.user}>${to.user}` });
        const got = await to.client.nextPush((f) => f.type === Srv.MESSAGE && f.body.from === from.user);
        expect(got.body.text).toBe(`${from.user}>${to.user}`);
      }
    }
    for (const x of clients) await x.client.call(Req.JOIN, { room: '#mesh' });
    await clients[0]!.client.call(Req.SAY, { room: '#mesh', text: 'all' });
    for (const x of clients.slice(1)) expect((await x.client.nextPush((f) => f.type === Srv.ROOM)).body.text).toBe('all');
    await clients[3]!.client.call(Req.WIZZ, { to: clients[0]!.user });
    await clients[0]!.client.nextPush((f) => f.type === Srv.WIZZED);
    // The same user twice: the older login is replaced, wherever each landed.
    const again = await loggedIn(server.port, clients[1]!.user, false);
    expect((await clients[1]!.client.nextPush((f) => f.type === Srv.ERROR)).body.code).toBe('session_replaced');
    // A message for someone offline, to find again after the restart.
    await registered(server.port, 'restart_bob');
    offline = await clients[0]!.client.call(Req.SEND, { to: 'restart_bob', text: 'see you after the restart' });

    expect(await server.stop('SIGINT')).toBe(0);
    // The group signal reaches the primary twice (npm forwards it too): one press, one message.
    expect(server.output().match(/SIGINT/g)).toHaveLength(1);
    expect(server.output()).toMatch(/database flushed and closed/);
    await Promise.all([again, ...clients].map((x) => x.client.closed));
  });

  it('restarts on the same database; acknowledged messages survive kill -9', { timeout: 120_000 }, async () => {
    const server = await startServerProcess(['--reactors', '1', '--port', '0', '--db', db, '--scrypt-log-n', '12']);
    const b = await loggedIn(server.port, 'restart_bob', false);
    expect(b.login.pending).toBe(1);
    const msg = await b.client.nextPush((f) => f.type === Srv.MESSAGE);
    expect(msg.body).toMatchObject({ msgId: offline.msgId, ts: offline.ts, to: 'restart_bob', text: 'see you after the restart' });

    const a = await loggedIn(server.port, 'crash_alice');
    const acked: number[] = [];
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        a.client.call(Req.SEND, { to: 'restart_bob', text: `m${i}` }).then((r) => acked.push(r.msgId as number)),
      ),
    );
    server.child.kill('SIGKILL'); // the reactor exits when its IPC channel to the primary drops
    await server.exited;
    await Promise.all([a.client.closed, b.client.closed]);
    const check = new Database(db, { readonly: true });
    const stored = check.prepare("SELECT id FROM messages WHERE sender = 'crash_alice' ORDER BY id").pluck().all() as number[];
    check.close();
    expect(stored).toEqual(acked.sort((x, y) => x - y));
  });
});
