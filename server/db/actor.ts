// The database actor: the one thread that owns SQLite for the whole server. It takes batches of
// requests from the primary, runs everything that arrived in one loop iteration as one
// transaction (one commit, one fsync) and answers by correlation id only after the commit.
import { parentPort, workerData } from 'node:worker_threads';
import { Store, type DbRequest } from './store.ts';
import type { ActorIn, ActorOut } from './actor-client.ts';

const port = parentPort!;
const store = new Store(workerData.file as string, { pragmas: workerData.pragmas as string[] | undefined });
let queue: DbRequest[] = [];
let scheduled = false;

function post(msg: ActorOut): void {
  port.postMessage(msg);
}

function flush(): void {
  scheduled = false;
  if (queue.length === 0) return;
  const batch = queue;
  queue = [];
  post({ kind: 'replies', replies: store.execute(batch) });
}

port.on('message', (msg: ActorIn) => {
  if (msg.kind === 'batch') {
    queue.push(...msg.batch);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush); // everything that arrives in this iteration joins the same commit
    }
  } else if (msg.kind === 'close') {
    flush();
    store.close();
    post({ kind: 'closed' });
    port.close();
  }
});

post({ kind: 'ready' });
