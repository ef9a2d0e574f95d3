// `npm start`: the wizz reference server. The same file runs as the primary and, forked by
// cluster, as each reactor. `npm start -- --help` lists every setting.
import cluster from 'node:cluster';
import { ConfigError, loadConfig, SETTINGS } from './config.ts';
import { runPrimary } from './primary/primary.ts';
import { runReactorProcess } from './reactor/process.ts';

if (process.argv.includes('--help')) {
  console.log('npm start -- [--flag value]…   (each flag also reads the WIZZ_* variable beside it)\n');
  for (const s of SETTINGS) console.log(`  --${s.flag.padEnd(26)} ${s.env.padEnd(31)} ${String(s.fallback()).padStart(14)}  ${s.help}`);
  process.exit(0);
}

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
