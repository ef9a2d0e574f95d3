// Type bytes and error codes of wizz protocol v1 (docs/reference/protocol.md).

export const Req = {
  REGISTER: 0x01,
  LOGIN: 0x02,
  SEND: 0x03,
  WIZZ: 0x04,
  JOIN: 0x05,
  LEAVE: 0x06,
  SAY: 0x07,
  WHO: 0x08,
  HISTORY: 0x09,
  PING: 0x0a,
  RESUME: 0x0b,
  LOGOUT: 0x0c,
  PASSWORD: 0x0d,
} as const;

export const Srv = {
  OK: 0x80,
  ERROR: 0x81,
  MESSAGE: 0x82,
  WIZZED: 0x83,
  ROOM: 0x84,
  PRESENCE: 0x85,
} as const;

export type ReqType = (typeof Req)[keyof typeof Req];

export const TYPE_NAMES: Record<number, string> = Object.fromEntries(
  [...Object.entries(Req), ...Object.entries(Srv)].map(([name, code]) => [code, name]),
);

export function isRequestType(type: number): type is ReqType {
  return type >= Req.REGISTER && type <= Req.PASSWORD;
}

export type ErrorCode =
  | 'bad_frame'
  | 'bad_request'
  | 'unauthenticated'
  | 'user_taken'
  | 'auth_failed'
  | 'no_such_user'
  | 'offline'
  | 'rate_limited'
  | 'not_member'
  | 'session_replaced'
  | 'server_full'
  | 'slow_consumer'
  | 'unavailable'
  | 'storage_full'
  | 'limit_reached'
  | 'key_reused'
  | 'timeout';

/** Codes after which the server closes the connection. */
export const CLOSING_CODES: ReadonlySet<ErrorCode> = new Set([
  'bad_frame',
  'session_replaced',
  'server_full',
  'slow_consumer',
  'timeout',
]);

/** A failure a handler reports to the client; anything else thrown is a bug. */
export class WizzError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
    this.name = 'WizzError';
  }
}
