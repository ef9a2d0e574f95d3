// Worker entry: the CPU work the reactor hands off. Pops chat-message payloads (the JSON body of
// a frame the reactor already cut out of the stream) from its inbound ring, validates them,
// encodes the delivery frame and pushes the answer into its outbound ring back to the reactor.
// Waiting with Atomics.wait is fine here: blocking a worker blocks nobody else.
import { workerData } from 'node:worker_threads';
import { encodeFrame, parsePayload } from '#server/protocol/frame.ts';
import { Doorbell, SpscRing } from './ring.ts';
import { DELIVER, REJECTED, validateChat } from './chat.ts';

interface EncoderData {
  inboxSab: SharedArrayBuffer;
  inboxBellSab: SharedArrayBuffer;
  outboxSab: SharedArrayBuffer;
  outboxBellSab: SharedArrayBuffer;
}

const data = workerData as EncoderData;
const inboxBell = new Doorbell(data.inboxBellSab);
const inbox = new SpscRing(data.inboxSab, inboxBell);
const outbox = new SpscRing(data.outboxSab, new Doorbell(data.outboxBellSab));

let answer: Uint8Array = new Uint8Array(0);
let stop = false;
const handle = (payload: Uint8Array): void => {
  if (payload.length === 0) {
    stop = true; // the reactor's "no more work" marker
    return;
  }
  let reply: Uint8Array;
  try {
    const chat = validateChat(parsePayload(payload));
    reply = encodeFrame(DELIVER, { from: chat.from, to: chat.to, text: chat.text });
  } catch (err) {
    reply = encodeFrame(REJECTED, { reason: (err as Error).message });
  }
  answer = reply;
};

while (!stop) {
  const seen = inboxBell.read();
  if (!inbox.popWith(handle)) {
    Atomics.wait(inboxBell.word, 0, seen, 100);
    continue;
  }
  if (stop) break;
  while (!outbox.push(answer)) outbox.waitForSpace(1);
}
