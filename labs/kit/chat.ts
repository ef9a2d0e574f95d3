// The lab chat: the rules every I/O stage serves, so a stage is only about its event loop.
// A subset of wizz protocol v1 (docs/reference/protocol.md): one room, #lobby, that every
// connection is in. The room never touches a socket: it turns "what happened" into Deliveries —
// which connection gets which bytes — and the stage's loop moves the bytes.
import { encodeFrame, type Frame, type FrameError } from '#server/protocol/frame.ts';

/** Frame types of wizz v1 that the lab chat speaks. */
export const MessageType = {
  LOGIN: 0x02,
  JOIN: 0x05,
  SAY: 0x07,
  WHO: 0x08,
  PING: 0x0a,
  OK: 0x80,
  ERROR: 0x81,
  ROOM: 0x84,
  PRESENCE: 0x85,
} as const;

/** Requests 0x01–0x0A are v1 requests; the lab answers the ones it does not serve with bad_request. */
const FIRST_REQUEST = 0x01;
const LAST_REQUEST = 0x0a;

export const LOBBY = '#lobby';
/** Longest user name LOGIN accepts. */
export const MAX_USER_LENGTH = 32;
/** Longest SAY text: even fully JSON-escaped (6 bytes a char) its ROOM frame stays under 64 KiB. */
export const MAX_TEXT_LENGTH = 8_192;
/** JOIN and WHO list at most this many names, so a reply always fits in one frame. */
export const MAX_LISTED_USERS = 1_000;
/**
 * Join/leave announcements stop above this many members, as big rooms on real chat services do:
 * announcing every arrival to everyone is O(n²) bytes — 12.5 million frames for 5,000 users.
 */
export const DEFAULT_PRESENCE_LIMIT = 64;

/** Bytes for one connection. Broadcasts share one `bytes` array among all their deliveries. */
export interface Delivery {
  to: number;
  bytes: Uint8Array;
  /** Close the connection once these bytes are written (after an error that ends the stream). */
  close?: boolean;
}

/** The ERROR frame for a refusal outside any request, e.g. `errorFrame('server_full', '…')`. */
export function errorFrame(code: string, message: string): Uint8Array {
  return encodeFrame(MessageType.ERROR, { code, message });
}

export interface ChatRoomOptions {
  /** Clock for message timestamps (ms). */
  now?: () => number;
  /** Announce joins and leaves only while the room has at most this many members. */
  presenceLimit?: number;
}

export class ChatRoom {
  /** conn (its fd) → user name, in join order. */
  private readonly users = new Map<number, string>();
  private readonly now: () => number;
  private readonly presenceLimit: number;

  constructor(options: ChatRoomOptions = {}) {
    this.now = options.now ?? Date.now;
    this.presenceLimit = options.presenceLimit ?? DEFAULT_PRESENCE_LIMIT;
  }

  get size(): number {
    return this.users.size;
  }

  /** The name `conn` goes by, or undefined if it is not in the room. */
  nameOf(conn: number): string | undefined {
    return this.users.get(conn);
  }

  /** A new connection enters #lobby as `guest<fd>`; the others hear about it (and, on LOGIN, of its new name). */
  join(conn: number): Delivery[] {
    if (this.users.has(conn)) throw new Error(`connection ${conn} joined twice: was its fd closed and reused without leave()?`);
    const user = `guest${conn}`;
    this.users.set(conn, user);
    return this.announce(conn, user, 'join');
  }

  /** A connection went away; the others hear about it. Leaving twice is harmless. */
  leave(conn: number): Delivery[] {
    const user = this.users.get(conn);
    if (user === undefined) return [];
    const deliveries = this.announce(conn, user, 'leave');
    this.users.delete(conn);
    return deliveries;
  }

  /** The bytes from `conn` were not wizz frames: tell it why, then close. */
  refuse(conn: number, error: FrameError): Delivery[] {
    return [{ to: conn, bytes: errorFrame('bad_frame', error.message), close: true }];
  }

  /** One decoded frame from `conn`. */
  handle(conn: number, frame: Frame): Delivery[] {
    const user = this.users.get(conn);
    if (user === undefined) throw new Error(`frame from connection ${conn}, which never joined the room`);
    const { body } = frame;
    const re = body.id;
    const reply = (fields: Record<string, unknown>): Delivery[] => [
      { to: conn, bytes: encodeFrame(MessageType.OK, { re, ...fields }) },
    ];
    const badRequest = (message: string): Delivery[] => [
      { to: conn, bytes: encodeFrame(MessageType.ERROR, { re, code: 'bad_request', message }) },
    ];

    switch (frame.type) {
      case MessageType.LOGIN: {
        const name = body.user;
        if (typeof name !== 'string' || name.length === 0 || name.length > MAX_USER_LENGTH) {
          return badRequest(`LOGIN needs a user name of 1–${MAX_USER_LENGTH} characters`);
        }
        // The others heard `guest<fd>` join: a new name is that member leaving and `name` joining,
        // in PRESENCE's own words, or they would hear from a stranger nobody announced.
        const renamed = name === user ? [] : [...this.announce(conn, user, 'leave'), ...this.announce(conn, name, 'join')];
        this.users.set(conn, name);
        return [...reply({ user: name, pending: 0 }), ...renamed];
      }
      case MessageType.JOIN:
        return reply({ room: LOBBY, members: this.listUsers() });
      case MessageType.SAY: {
        const text = body.text;
        if (typeof text !== 'string' || text.length > MAX_TEXT_LENGTH) {
          return badRequest(`SAY needs a text of at most ${MAX_TEXT_LENGTH} characters`);
        }
        const ts = this.now();
        return [...reply({ ts }), ...this.toOthers(conn, MessageType.ROOM, { room: LOBBY, from: user, text, ts })];
      }
      case MessageType.PING:
        return reply({});
      case MessageType.WHO:
        // Answered from the first frame on (no LOGIN needed): `npm run client` tells a lab server from
        // the reference server by it (server/client/detect.ts).
        return reply({ users: this.listUsers() });
      default:
        if (frame.type >= FIRST_REQUEST && frame.type <= LAST_REQUEST) {
          return badRequest(`request type 0x${frame.type.toString(16).padStart(2, '0')} is not served by the lab chat`);
        }
        return [{ to: conn, bytes: errorFrame('bad_frame', `unknown frame type 0x${frame.type.toString(16)}`), close: true }];
    }
  }

  private listUsers(): string[] {
    const names: string[] = [];
    for (const name of this.users.values()) {
      if (names.length === MAX_LISTED_USERS) break;
      names.push(name);
    }
    return names;
  }

  private announce(conn: number, user: string, event: 'join' | 'leave'): Delivery[] {
    if (this.users.size > this.presenceLimit) return [];
    return this.toOthers(conn, MessageType.PRESENCE, { room: LOBBY, user, event });
  }

  /** One frame to every member but `conn`, encoded once. */
  private toOthers(conn: number, type: number, body: Record<string, unknown>): Delivery[] {
    const bytes = encodeFrame(type, body);
    const deliveries: Delivery[] = [];
    for (const other of this.users.keys()) if (other !== conn) deliveries.push({ to: other, bytes });
    return deliveries;
  }
}
