// The message the encoder workers validate: a chat line from one user to another.
import { FrameError, type Frame } from '#server/protocol/frame.ts';

export const CHAT = 0x10;
export const DELIVER = 0x11;
export const REJECTED = 0x7f;
export const MAX_TEXT = 500;
export const MAX_NAME = 64;

export interface Chat {
  from: string;
  to: string;
  text: string;
}

/** Throws a FrameError naming the first problem; returns the typed message otherwise. */
export function validateChat(frame: Frame): Chat {
  if (frame.type !== CHAT) throw new FrameError('not_object', `expected a chat frame (type ${CHAT}), got type ${frame.type}`);
  const { from, to, text } = frame.body;
  if (typeof from !== 'string' || from.length === 0 || from.length > MAX_NAME) throw new FrameError('not_object', `chat.from must be a string of 1..${MAX_NAME} characters`);
  if (typeof to !== 'string' || to.length === 0 || to.length > MAX_NAME) throw new FrameError('not_object', `chat.to must be a string of 1..${MAX_NAME} characters`);
  if (typeof text !== 'string') throw new FrameError('not_object', 'chat.text must be a string');
  if (text.length > MAX_TEXT) throw new FrameError('too_long', `chat.text is longer than ${MAX_TEXT} characters`);
  return { from, to, text };
}
