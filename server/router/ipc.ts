// Cluster IPC as a link transport. Batches are arrays; control messages are plain objects, so the
// two never mix up on the one channel a cluster worker has.
import type { Worker } from 'node:cluster';
import type { DownMsg, Transport, UpMsg } from './link.ts';

export type Control =
  | { ctl: 'listening'; port: number }
  | { ctl: 'shutdown' }
  | { ctl: 'drained' };

export function isControl(msg: unknown): msg is Control {
  return typeof msg === 'object' && msg !== null && !Array.isArray(msg) && 'ctl' in msg;
}

/** The reactor's side, inside a cluster worker process. */
export function workerTransport(): Transport<UpMsg, DownMsg> {
  return {
    send: (batch) => {
      if (process.connected) process.send!(batch);
    },
    onReceive: (handler) => {
      process.on('message', (msg) => {
        if (Array.isArray(msg)) handler(msg as DownMsg[]);
      });
    },
  };
}

/** The primary's side, one per forked reactor. */
export function primaryTransport(worker: Worker): Transport<DownMsg, UpMsg> {
  return {
    send: (batch) => {
      if (worker.isConnected()) worker.send(batch);
    },
    onReceive: (handler) => {
      worker.on('message', (msg) => {
        if (Array.isArray(msg)) handler(msg as UpMsg[]);
      });
    },
  };
}
