// `npm run load -- --clients 2000 --rooms 20 --rate 5000 --duration 30 [--port 7777] [--say-ratio 0.1]`
// Targets 127.0.0.1 only. Prints a progress bar, then a closing table.
import cliProgress from 'cli-progress';
import { runLoad, type LoadResult } from './run.ts';
import { parseFlags } from '../util/cli.ts';

const values = parseFlags(
  {
    port: { type: 'string', default: '7777' },
    clients: { type: 'string', default: '200' },
    rooms: { type: 'string', default: '10' },
    rate: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '10' },
    'say-ratio': { type: 'string', default: '0.1' },
    prefix: { type: 'string', default: 'load_' },
  },
  `usage: npm run load -- [--port 7777] [--clients 200] [--rooms 10] [--rate 1000 (msgs/s)] [--duration 10 (s)]
                        [--say-ratio 0.1 (share of room SAYs)] [--prefix load_ (user names)]
Drives a running wizz server on 127.0.0.1 and prints a closing table.`,
);

const num = (name: keyof typeof values, min: number, max: number): number => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n < min || n > max) {
    console.error(`--${name} must be a number from ${min} to ${max}, got "${values[name]}"`);
    process.exit(2);
  }
  return n;
};

const options = {
  port: num('port', 1, 65_535),
  clients: Math.floor(num('clients', 2, 100_000)),
  rooms: Math.floor(num('rooms', 1, 10_000)),
  rate: num('rate', 1, 1_000_000),
  durationS: num('duration', 1, 3_600),
  sayRatio: num('say-ratio', 0, 1),
  prefix: values.prefix!,
};

console.log(
  `wizz load: ${options.clients} clients in ${options.rooms} rooms → 127.0.0.1:${options.port}, ` +
    `${options.rate} msgs/s (${Math.round(options.sayRatio * 100)} % room SAYs) for ${options.durationS} s`,
);
const bar = new cliProgress.SingleBar(
  { format: '{phase} |{bar}| {value}/{total} s · connected {connected} · sent {sent} · delivered {delivered}', hideCursor: true },
  cliProgress.Presets.shades_classic,
);
bar.start(options.durationS, 0, { phase: 'connecting', connected: 0, sent: 0, delivered: 0 });
let sendingSince: number | null = null;
const result = await runLoad({
  ...options,
  onProgress: (p) => {
    if (p.phase === 'sending' && sendingSince === null) sendingSince = p.elapsedS;
    const value = sendingSince === null ? 0 : Math.min(options.durationS, Math.round(p.elapsedS - sendingSince));
    bar.update(value, { phase: p.phase.padEnd(10), connected: p.connected, sent: p.sent, delivered: p.delivered });
  },
});
bar.update(options.durationS);
bar.stop();
printTable(result);
process.exit(Object.keys(result.errors).length === 0 ? 0 : 1);

function printTable(r: LoadResult): void {
  const ms = (x: number) => (Number.isNaN(x) ? '—' : `${x.toFixed(1)} ms`);
  const errors = Object.entries(r.errors);
  const rows: Array<[string, string]> = [
    ['connected', `${r.connected} / ${options.clients}${r.resumed ? ` (${r.resumed} dropped and came back with RESUME)` : ''}`],
    ['sent', `${r.sent} (${r.acked} acknowledged)`],
    ['delivered', `${r.delivered} of ${r.expected} expected`],
    ['msgs/s sent', r.sentPerS.toFixed(0)],
    ['msgs/s delivered', r.deliveredPerS.toFixed(0)],
    ['latency p50', ms(r.latencyMs.p50)],
    ['latency p95', ms(r.latencyMs.p95)],
    ['latency p99', ms(r.latencyMs.p99)],
    ['latency max', ms(r.latencyMs.max)],
    ['errors', errors.length === 0 ? '0' : errors.map(([code, n]) => `${code} ${n}`).join(', ')],
  ];
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log('');
  for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
}
