// The "before" picture for `npm run bench:server`: a straightforward single-process wizz server, the
// way a careful programmer writes one on the first day. Same protocol v1 framing and field rules
// (server/protocol/), one process, one event loop, a Map of rooms, one socket.write per recipient
// (each message is encoded once and the same bytes written to every member), better-sqlite3 on the
// event loop with one autocommit INSERT (one fsync) per direct message. No pooling, no batching, no
// reactors, no database thread.
//
// It implements what the bench drives: REGISTER, LOGIN, JOIN, LEAVE, SAY, SEND, PING. LOGIN checks
// only that the account exists — ANY PASSWORD IS ACCEPTED (no scrypt): the bench measures message
// paths, and a real password check would only make this server look slower at log-in time.
import net from 'node:net';
import Database from 'better-sqlite3';
import { encodeFrame, FrameDecoder, FrameError, type Frame } from '../protocol/frame.ts';
import { Req, Srv, WizzError, type ErrorCode } from '../protocol/codes.ts';
import { password, requestId, room as roomField, text as textField, userName, type RequestId } from '../protocol/validate.ts';

/** Outbound bytes one client may leave unread before it is cut off (as the reference server does). */
const MAX_QUEUED_BYTES = 1 << 20;

export interface BaselineOptions {
  host?: string;
  /** 0: any free port. */
  port?: number;
  /** SQLite file (WAL, synchronous = FULL). */
  db: string;
}

export interface BaselineServer {
  port: number;
  close(): Promise<void>;
}

interface Client {
  socket: net.Socket;
  user: string | null;
  rooms: Set<string>;
}

export async function startBaseline(options: BaselineOptions): Promise<BaselineServer> {
  const db = new Database(options.db);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY);
           CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY, sender TEXT, recipient TEXT, text TEXT, ts INTEGER)`);
  const insertUser = db.prepare('INSERT OR IGNORE INTO users (name) VALUES (?)');
  const userExists = db.prepare('SELECT 1 FROM users WHERE name = ?').pluck();
  const insertMessage = db.prepare('INSERT INTO messages (sender, recipient, text, ts) VALUES (?, ?, ?, ?)');

  const online = new Map<string, Client>();
  const sockets = new Set<net.Socket>();
  const rooms = new Map<string, Set<Client>>();

  const write = (c: Client, bytes: Uint8Array) => {
    if (c.socket.destroyed) return;
    if (c.socket.writableLength > MAX_QUEUED_BYTES) {
      c.socket.end(encodeFrame(Srv.ERROR, { code: 'slow_consumer', message: 'you are not reading' }));
      c.socket.destroy();
      return;
    }
    c.socket.write(bytes);
  };
  const ok = (c: Client, re: RequestId, body: Record<string, unknown> = {}) => write(c, encodeFrame(Srv.OK, { re, ...body }));
  const error = (c: Client, re: RequestId | undefined, code: ErrorCode, message: string) =>
    write(c, encodeFrame(Srv.ERROR, re === undefined ? { code, message } : { re, code, message }));

  const leaveAll = (c: Client) => {
    for (const name of c.rooms) {
      const members = rooms.get(name);
      if (!members) continue;
      members.delete(c);
      if (members.size === 0) rooms.delete(name);
      else {
        const presence = encodeFrame(Srv.PRESENCE, { room: name, user: c.user, event: 'leave' });
        for (const m of members) write(m, presence);
      }
    }
    c.rooms.clear();
  };

  const handle = (c: Client, frame: Frame) => {
    const id = requestId(frame.body);
    if (id === undefined) return error(c, undefined, 'bad_request', 'missing or bad "id"');
    const b = frame.body;
    switch (frame.type) {
      case Req.PING:
        return ok(c, id);
      case Req.REGISTER: {
        const user = userName(b, 'user');
        password(b);
        return insertUser.run(user).changes === 1 ? ok(c, id) : error(c, id, 'user_taken', `${user} is taken`);
      }
      case Req.LOGIN: {
        const user = userName(b, 'user');
        password(b); // checked for form only: any password is accepted (see the top of this file)
        if (c.user) return error(c, id, 'bad_request', 'already logged in');
        if (!userExists.get(user)) return error(c, id, 'auth_failed', 'wrong user or password');
        const old = online.get(user);
        if (old) {
          error(old, undefined, 'session_replaced', 'you logged in elsewhere');
          leaveAll(old);
          old.socket.end();
        }
        c.user = user;
        online.set(user, c);
        return ok(c, id, { user, pending: 0 });
      }
    }
    if (!c.user) return error(c, id, 'unauthenticated', 'log in first');
    switch (frame.type) {
      case Req.JOIN: {
        const name = roomField(b);
        let members = rooms.get(name);
        if (!members) rooms.set(name, (members = new Set()));
        if (!members.has(c)) {
          const presence = encodeFrame(Srv.PRESENCE, { room: name, user: c.user, event: 'join' });
          for (const m of members) write(m, presence);
          members.add(c);
          c.rooms.add(name);
        }
        return ok(c, id, { room: name, members: [...members].map((m) => m.user).sort().slice(0, 1000) });
      }
      case Req.LEAVE: {
        const name = roomField(b);
        if (!c.rooms.has(name)) return error(c, id, 'not_member', `you are not in ${name}`);
        const members = rooms.get(name)!;
        members.delete(c);
        c.rooms.delete(name);
        if (members.size === 0) rooms.delete(name);
        const presence = encodeFrame(Srv.PRESENCE, { room: name, user: c.user, event: 'leave' });
        for (const m of members) write(m, presence);
        return ok(c, id);
      }
      case Req.SAY: {
        const name = roomField(b);
        const text = textField(b);
        if (!c.rooms.has(name)) return error(c, id, 'not_member', `you are not in ${name}`);
        const ts = Date.now();
        const frameBytes = encodeFrame(Srv.ROOM, { room: name, from: c.user, text, ts });
        for (const m of rooms.get(name)!) if (m !== c) write(m, frameBytes);
        return ok(c, id, { ts });
      }
      case Req.SEND: {
        const to = userName(b, 'to');
        const text = textField(b);
        if (!userExists.get(to)) return error(c, id, 'no_such_user', `no user ${to}`);
        const ts = Date.now();
        const msgId = Number(insertMessage.run(c.user, to, text, ts).lastInsertRowid); // commits: one fsync
        const peer = online.get(to);
        if (peer) write(peer, encodeFrame(Srv.MESSAGE, { msgId, from: c.user, to, text, ts }));
        return ok(c, id, { msgId, ts });
      }
      default:
        return error(c, id, 'bad_request', `request type 0x${frame.type.toString(16)} is not implemented by the baseline server`);
    }
  };

  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    const c: Client = { socket, user: null, rooms: new Set() };
    const decoder = new FrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      try {
        decoder.decode(chunk, (frame) => {
          if (frame.type < Req.REGISTER || frame.type > Req.PING) throw new FrameError('bad_json', `unknown request type 0x${frame.type.toString(16)}`);
          try {
            handle(c, frame);
          } catch (err) {
            if (!(err instanceof WizzError)) throw err;
            error(c, requestId(frame.body), err.code, err.message);
          }
        });
      } catch (err) {
        if (!(err instanceof FrameError)) throw err;
        socket.end(encodeFrame(Srv.ERROR, { code: 'bad_frame', message: err.message }));
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      leaveAll(c);
      if (c.user && online.get(c.user) === c) online.delete(c.user);
    });
  });
  server.maxConnections = 1_000_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  // Past the open-file limit accept() fails (EMFILE); libuv drops that connection and the server
  // goes on, as a careful server should, instead of dying on an unhandled 'error'.
  server.on('error', (err) => console.error(`baseline: ${err.message}`));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => {
          db.close();
          resolve();
        });
        for (const s of sockets) s.destroy();
      }),
  };
}
