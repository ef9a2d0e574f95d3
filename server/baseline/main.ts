// `tsx server/baseline/main.ts --port 0 --db /tmp/x.db`: the straightforward "before" server of
// `npm run bench:server` (server/baseline/server.ts). Prints "baseline listening on 127.0.0.1:<port>",
// stops on SIGINT/SIGTERM. Any password is accepted at LOGIN.
import { parseArgs } from 'node:util';
import { startBaseline } from './server.ts';

const { values } = parseArgs({
  options: { host: { type: 'string', default: '127.0.0.1' }, port: { type: 'string', default: '7788' }, db: { type: 'string', default: './data/baseline.db' } },
});
const server = await startBaseline({ host: values.host, port: Number(values.port), db: values.db! });
console.log(`baseline listening on ${values.host}:${server.port} (one process, database ${values.db})`);
const stop = () => void server.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
