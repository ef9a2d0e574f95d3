// Plain-JS entry for worker threads whose real code is TypeScript. On Node 20 a Worker cannot load
// a .ts file under tsx (nodejs/node#47747, fixed in Node 22.2), so we register tsx's ESM loader
// inside the worker first and then import the .ts entry named in workerData.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.__tsEntry);
