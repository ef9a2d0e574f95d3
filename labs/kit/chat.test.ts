import { describe, expect, it } from 'vitest';
import { FrameDecoder, FrameError, type Frame } from '#server/protocol/frame.ts';
import { ChatRoom, DEFAULT_PRESENCE_LIMIT, MAX_TEXT_LENGTH, MessageType, errorFrame, type Delivery } from './chat.ts';

const decode = (bytes: Uint8Array): Frame => {
  const frames = new FrameDecoder().push(bytes);
  expect(frames).toHaveLength(1);
  return frames[0]!;
};
const to = (deliveries: Delivery[], conn: number) => deliveries.filter((d) => d.to === conn).map((d) => decode(d.bytes));

describe('ChatRoom', () => {
  it('names a new connection guest<fd> and announces it to the others only', () => {
    const room = new ChatRoom();
    expect(room.join(4)).toEqual([]);
    const d = room.join(5);
    expect(d.map((x) => x.to)).toEqual([4]);
    expect(decode(d[0]!.bytes)).toEqual({ type: MessageType.PRESENCE, body: { room: '#lobby', user: 'guest5', event: 'join' } });
    expect(room.nameOf(5)).toBe('guest5');
  });

  it('refuses a second join of the same fd (a reused fd that never left)', () => {
    const room = new ChatRoom();
    room.join(4);
    expect(() => room.join(4)).toThrow(/twice/);
  });

  it('LOGIN renames, SAY answers the sender and broadcasts one shared frame to the others', () => {
    const room = new ChatRoom({ now: () => 1234 });
    for (const fd of [4, 5, 6]) room.join(fd);
    const login = room.handle(4, { type: MessageType.LOGIN, body: { id: 1, user: 'ada', password: 'x' } });
    expect(to(login, 4)).toEqual([{ type: MessageType.OK, body: { re: 1, user: 'ada', pending: 0 } }]);
    // The others heard guest4 join: they hear guest4 leave and ada join, not a stranger speak.
    expect(to(login, 5)).toEqual([
      { type: MessageType.PRESENCE, body: { room: '#lobby', user: 'guest4', event: 'leave' } },
      { type: MessageType.PRESENCE, body: { room: '#lobby', user: 'ada', event: 'join' } },
    ]);
    expect(to(room.handle(4, { type: MessageType.LOGIN, body: { id: 3, user: 'ada' } }), 5), 'the same name again: nothing to announce').toEqual([]);
    const d = room.handle(4, { type: MessageType.SAY, body: { id: 2, text: 'hi' } });
    expect(to(d, 4)).toEqual([{ type: MessageType.OK, body: { re: 2, ts: 1234 } }]);
    const room5 = to(d, 5);
    expect(room5).toEqual([{ type: MessageType.ROOM, body: { room: '#lobby', from: 'ada', text: 'hi', ts: 1234 } }]);
    expect(to(d, 6)).toEqual(room5);
    const shared = d.filter((x) => x.to !== 4);
    expect(shared[0]!.bytes).toBe(shared[1]!.bytes);
  });

  it('answers PING, JOIN and WHO', () => {
    const room = new ChatRoom();
    room.join(4);
    room.join(7);
    expect(to(room.handle(4, { type: MessageType.PING, body: { id: 'a' } }), 4)).toEqual([{ type: MessageType.OK, body: { re: 'a' } }]);
    expect(to(room.handle(4, { type: MessageType.JOIN, body: { id: 'b', room: '#x' } }), 4)[0]!.body).toEqual({
      re: 'b',
      room: '#lobby',
      members: ['guest4', 'guest7'],
    });
    expect(to(room.handle(7, { type: MessageType.WHO, body: { id: 'c' } }), 7)[0]!.body).toEqual({
      re: 'c',
      users: ['guest4', 'guest7'],
    });
  });

  it('answers other v1 requests and bad fields with bad_request, keeping the connection', () => {
    const room = new ChatRoom();
    room.join(4);
    for (const frame of [
      { type: 0x01, body: { id: 1 } },
      { type: 0x09, body: { id: 1 } },
      { type: MessageType.SAY, body: { id: 1, text: 42 } },
      { type: MessageType.SAY, body: { id: 1, text: 'x'.repeat(MAX_TEXT_LENGTH + 1) } },
      { type: MessageType.LOGIN, body: { id: 1, user: '' } },
    ]) {
      const d = room.handle(4, frame);
      expect(d).toHaveLength(1);
      expect(d[0]!.close).toBeFalsy();
      expect(decode(d[0]!.bytes)).toMatchObject({ type: MessageType.ERROR, body: { re: 1, code: 'bad_request' } });
    }
  });

  it('closes on an unknown type or a broken stream, with bad_frame', () => {
    const room = new ChatRoom();
    room.join(4);
    const d = room.handle(4, { type: 0x42, body: {} });
    expect(d[0]!.close).toBe(true);
    expect(decode(d[0]!.bytes)).toMatchObject({ type: MessageType.ERROR, body: { code: 'bad_frame' } });
    const r = room.refuse(4, new FrameError('too_long', 'too long'));
    expect(r[0]).toMatchObject({ to: 4, close: true });
    expect(decode(r[0]!.bytes).body).toMatchObject({ code: 'bad_frame' });
  });

  it('announces leaves, and stays quiet about presence in a crowded room', () => {
    const room = new ChatRoom();
    room.join(4);
    room.join(5);
    expect(to(room.leave(5), 4)[0]!.body).toEqual({ room: '#lobby', user: 'guest5', event: 'leave' });
    expect(room.leave(5)).toEqual([]);
    const crowd = new ChatRoom();
    let announced = 0;
    for (let fd = 4; fd < 4 + DEFAULT_PRESENCE_LIMIT + 10; fd++) announced += crowd.join(fd).length;
    const n = DEFAULT_PRESENCE_LIMIT;
    expect(announced).toBe((n * (n - 1)) / 2);
  });

  it('errorFrame encodes an ERROR with the code', () => {
    expect(decode(errorFrame('server_full', 'no room'))).toEqual({
      type: MessageType.ERROR,
      body: { code: 'server_full', message: 'no room' },
    });
  });
});
