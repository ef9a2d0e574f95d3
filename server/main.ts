// `npm start`: the wizz reference server. The same file runs as the primary and, forked by
// cluster, as each reactor.
import cluster from 'node:cluster';
import { ConfigError, loadConfig } from './config.ts';
import { runPrimary } from './primary/primary.ts';
import { runReactorProcess } from './reactor/process.ts';

let config;
try {
  config = loadConfig(process.argv.slice(2), process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(`wizz: ${err.message}`);
  process.exit(2);
}

if (cluster.isPrimary) await runPrimary(config);
else await runReactorProcess(config);
