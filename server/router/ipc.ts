// Cluster IPC as a link transport. Batches are arrays; control messages are plain objects, so the
// two never mix up on the one channel a cluster worker has.
import type { Worker } from 'node:cluster';
import type { DownMsg, Transport, UpMsg } from './link.ts';
import type { ReactorStats, ServerStats } from '../primary/stats.ts';

export type Control =
  | { ctl: 'listening'; port: number }
  | { ctl: 'shutdown' }
  | { ctl: 'drained' }
  /** The reactor could not listen (e.g. the port is in use): the primary reports it and stops. */
  | { ctl: 'listen_failed'; message: string }
  /** reactor → primary: how many connections this reactor holds now. */
  | { ctl: 'connections'; count: number }
  /** primary → reactor: how many connections the other reactors hold (max connections is cluster-wide). */
  | { ctl: 'others'; count: number }
  /** A supervisor asks for numbers (parent → primary → reactors); see primary/stats.ts. */
  | { ctl: 'sample'; seq: number }
  | { ctl: 'sampled'; seq: number; stats: ReactorStats }
  | { ctl: 'server_sampled'; seq: number; stats: ServerStats };

/** The failures of a send to a peer that is already gone: its end of the channel is closed. */
const GONE_PEER = new Set(['EPIPE', 'ECONNRESET', 'ERR_IPC_CHANNEL_CLOSED']);

/**
 * Makes sends on an IPC channel harmless once the peer is gone. A send to a process that died (or
 * exited after its last word) fails with EPIPE, and one after the channel closed with
 * ERR_IPC_CHANNEL_CLOSED; Node reports either as an 'error' event on the sending side — on the
 * cluster Worker, the ChildProcess, or `process` in a child — and an 'error' event without a
 * listener ends the process. Checking isConnected()/process.connected first is not enough: they
 * turn false only once the loop has read the peer's hang-up, and a send in the same loop turn
 * as the peer's death still goes out. So every channel gets a listener: the first failure of a
 * gone peer is logged, the rest are dropped (the 'exit' and 'disconnect' handlers do the real
 * work of a peer going away); any other error is logged as it is.
 */
export function tolerateGonePeer(channel: NodeJS.EventEmitter, peer: string, log: (line: string) => void): void {
  let told = false;
  channel.on('error', (err: NodeJS.ErrnoException) => {
    const gone = GONE_PEER.has(err.code ?? '');
    if (gone && told) return;
    told ||= gone;
    log(gone ? `${peer} is gone: a message to it was dropped (${err.code})` : `IPC error with ${peer}: ${err.message}`);
  });
}

export function isControl(msg: unknown): msg is Control {
  return typeof msg === 'object' && msg !== null && !Array.isArray(msg) && 'ctl' in msg;
}

/**
 * A ROOM event, most of what goes down to a reactor, travels as a tuple: without the keys its JSON
 * is a third shorter, and the primary writes it (once per reactor) and the reactor parses it in
 * about half the time. Everything else travels as it is.
 */
type RoomTuple = ['r', room: string, from: string, text: string, ts: number];
type DownWire = DownMsg | RoomTuple;

function toWire(msg: DownMsg): DownWire {
  if (msg.k !== 'ev' || msg.ev.e !== 'room') return msg;
  const { room, from, text, ts } = msg.ev;
  return ['r', room, from, text, ts];
}

function fromWire(msg: DownWire): DownMsg {
  if (!Array.isArray(msg)) return msg;
  return { k: 'ev', ev: { e: 'room', room: msg[1], from: msg[2], text: msg[3], ts: msg[4] } };
}

/** The reactor's side, inside a cluster worker process. */
export function workerTransport(): Transport<UpMsg, DownMsg> {
  return {
    send: (batch) => {
      if (process.connected) process.send!(batch);
    },
    onReceive: (handler) => {
      process.on('message', (msg) => {
        if (Array.isArray(msg)) handler((msg as DownWire[]).map(fromWire));
      });
    },
  };
}

/** The primary's side, one per forked reactor. */
export function primaryTransport(worker: Worker): Transport<DownMsg, UpMsg> {
  return {
    send: (batch) => {
      if (worker.isConnected()) worker.send(batch.map(toWire));
    },
    onReceive: (handler) => {
      worker.on('message', (msg) => {
        if (Array.isArray(msg)) handler(msg as UpMsg[]);
      });
    },
  };
}
