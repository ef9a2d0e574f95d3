// `npm run soak -- --minutes 2 [--clients 2000] [--rooms 20] [--rate 1000] [--reactors 2]`
// Starts the real server (cluster, its own temporary database) with an IPC channel, drives it with
// the load generator — room SAYs, direct messages, and WHO/HISTORY/PING/JOIN/LEAVE — samples every
// process's RSS, heap, pool bytes in use and event-loop delay once a second, and fails (exit 1) on
// any error, on growth, or on anything still held after the clients leave. 127.0.0.1 only.
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import cliProgress from 'cli-progress';
import { parseFlags } from '../util/cli.ts';
import { runLoad, type LoadProgress } from './run.ts';
import { judge, type SoakSample } from './soak-verdict.ts';
import { isControl, tolerateGonePeer, type Control } from '../router/ipc.ts';
import type { ServerStats } from '../primary/stats.ts';

const values = parseFlags(
  {
    minutes: { type: 'string', default: '2' },
    clients: { type: 'string', default: '2000' },
    rooms: { type: 'string', default: '20' },
    rate: { type: 'string', default: '1000' },
    reactors: { type: 'string', default: '2' },
  },
  'usage: npm run soak -- [--minutes 2] [--clients 2000] [--rooms 20] [--rate 1000 (msgs/s)] [--reactors 2]\nStarts its own server and fails on memory growth, errors or leftovers.',
);
const num = (name: keyof typeof values, min: number, max: number): number => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n < min || n > max) {
    console.error(`--${name} must be a number from ${min} to ${max}, got "${values[name]}"`);
    process.exit(2);
  }
  return n;
};
const minutes = num('minutes', 0.1, 600);
const clients = Math.floor(num('clients', 2, 20_000));
const rooms = Math.floor(num('rooms', 1, 1_000));
const rate = num('rate', 1, 100_000);
const reactors = Math.floor(num('reactors', 1, 64));
const durationS = Math.round(minutes * 60);

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wizz-soak-'));
// Cheap hashes: 2,000 logins at the OWASP cost would take minutes and measure scrypt, not the server.
const serverArgs = ['--port', '0', '--db', path.join(dir, 'soak.db'), '--reactors', String(reactors), '--scrypt-log-n', '12'];
const server = fork(path.join(root, 'server/main.ts'), serverArgs, { cwd: root, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
let serverOut = '';
const port = await new Promise<number>((resolve, reject) => {
  const onData = (chunk: Buffer) => {
    serverOut += chunk.toString();
    const m = /listening on [\d.]+:(\d+)/.exec(serverOut);
    if (m) resolve(Number(m[1]));
  };
  server.stdout!.on('data', onData);
  server.stderr!.on('data', onData);
  server.once('exit', (code) => reject(new Error(`the server exited (${code}) before listening:\n${serverOut}`)));
});
const serverExit = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
// A server that died answers no sample (that shows as missing); the soak must not die of asking.
tolerateGonePeer(server, 'the server', (line) => console.error(`soak: ${line}`));

// ── sampling ─────────────────────────────────────────────────────────────────────────────────
let seq = 0;
const waiting = new Map<number, (s: ServerStats) => void>();
server.on('message', (msg) => {
  if (isControl(msg) && msg.ctl === 'server_sampled') waiting.get(msg.seq)?.(msg.stats);
});
function sample(): Promise<ServerStats | null> {
  const id = ++seq;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      resolve(null);
    }, 2_000);
    waiting.set(id, (s) => {
      clearTimeout(timer);
      waiting.delete(id);
      resolve(s);
    });
    if (server.connected) server.send({ ctl: 'sample', seq: id } satisfies Control);
  });
}
function flatten(s: ServerStats, t: number): SoakSample {
  const all = [s.primary, ...s.reactors];
  return {
    t,
    rssBytes: all.reduce((n, p) => n + p.rssBytes, 0),
    heapUsedBytes: all.reduce((n, p) => n + p.heapUsedBytes, 0),
    poolLiveBytes: s.reactors.reduce((n, r) => n + r.poolLiveBytes, 0),
    loopDelayP99Ms: Math.max(...all.map((p) => p.loopDelayP99Ms)),
    connections: s.reactors.reduce((n, r) => n + r.connections, 0),
  };
}

const during: Array<SoakSample & { sent: number; delivered: number }> = [];
let progress: LoadProgress = { phase: 'connecting', connected: 0, sent: 0, delivered: 0, elapsedS: 0 };
let sendingAt: number | null = null;
let missed = 0;
const sampler = setInterval(async () => {
  const s = await sample();
  if (!s) {
    missed++;
    return;
  }
  const t = sendingAt === null ? -1 : (performance.now() - sendingAt) / 1000;
  if (progress.phase === 'sending') during.push({ ...flatten(s, t), sent: progress.sent, delivered: progress.delivered });
  bar.update(Math.max(0, Math.min(durationS, Math.round(t))), {
    phase: progress.phase.padEnd(10),
    connected: progress.connected,
    rss: (flatten(s, t).rssBytes / 2 ** 20).toFixed(0),
    p99: flatten(s, t).loopDelayP99Ms.toFixed(1),
  });
}, 1_000);

console.log(`wizz soak: ${clients} clients in ${rooms} rooms, ${rate} requests/s for ${durationS} s against ${reactors} reactor(s) on 127.0.0.1:${port}`);
const bar = new cliProgress.SingleBar(
  { format: '{phase} |{bar}| {value}/{total} s · connected {connected} · RSS {rss} MiB · loop p99 {p99} ms', hideCursor: true },
  cliProgress.Presets.shades_classic,
);
bar.start(durationS, 0, { phase: 'connecting', connected: 0, rss: '?', p99: '?' });
const result = await runLoad({
  port,
  clients,
  rooms,
  rate,
  durationS,
  sayRatio: 0.1,
  otherRatio: 0.1,
  prefix: 'soak_',
  setupTimeoutS: 600,
  onProgress: (p) => {
    progress = p;
    if (p.phase === 'sending' && sendingAt === null) sendingAt = performance.now() - 250;
  },
});
clearInterval(sampler);
bar.update(durationS);
bar.stop();

// ── after the clients left: everything they held must be released ────────────────────────────
const after: SoakSample[] = [];
for (let i = 0; i < 10; i++) {
  const s = await sample();
  if (s) after.push(flatten(s, durationS));
  const last = after.at(-1);
  if (last && last.connections === 0 && last.poolLiveBytes === 0) break;
  await new Promise((r) => setTimeout(r, 500));
}
server.kill('SIGTERM');
const exitCode = await serverExit;
fs.rmSync(dir, { recursive: true, force: true });

const errors = { ...result.errors };
if (missed > 2) errors.samples_missed = missed;
if (exitCode !== 0) errors[`server_exit_${exitCode}`] = 1;
if (result.delivered !== result.expected) errors.undelivered = result.expected - result.delivered;
const verdict = judge(during, after, errors, durationS);

// ── the table ────────────────────────────────────────────────────────────────────────────────
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
const rows: string[][] = [['t (s)', 'conns', 'RSS MiB', 'heap MiB', 'pool KiB', 'loop p99 ms', 'msgs sent/s', 'delivered/s']];
const step = Math.max(1, Math.round(durationS / 12));
let prev = { t: 0, sent: 0, delivered: 0 };
for (const s of during) {
  if (s.t < prev.t + step && s !== during.at(-1)) continue;
  const dt = s.t - prev.t || 1;
  rows.push([s.t.toFixed(0), String(s.connections), mib(s.rssBytes), mib(s.heapUsedBytes), (s.poolLiveBytes / 1024).toFixed(1), s.loopDelayP99Ms.toFixed(1), ((s.sent - prev.sent) / dt).toFixed(0), ((s.delivered - prev.delivered) / dt).toFixed(0)]);
  prev = s;
}
const last = after.at(-1);
if (last) rows.push(['after', String(last.connections), mib(last.rssBytes), mib(last.heapUsedBytes), (last.poolLiveBytes / 1024).toFixed(1), last.loopDelayP99Ms.toFixed(1), '', '']);
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
console.log('');
for (const r of rows) console.log(r.map((v, c) => v.padStart(widths[c]!)).join('  '));
console.log('');
console.log(`connected ${result.connected}/${clients} · messages sent ${result.sent}, acknowledged ${result.acked}, delivered ${result.delivered}/${result.expected} · other requests ${result.others} · latency p50 ${result.latencyMs.p50.toFixed(1)} ms, p99 ${result.latencyMs.p99.toFixed(1)} ms`);
console.log(`growth (first third after warm-up → last third): RSS ${mib(verdict.start.rssBytes!)} → ${mib(verdict.end.rssBytes!)} MiB, heap ${mib(verdict.start.heapUsedBytes!)} → ${mib(verdict.end.heapUsedBytes!)} MiB, loop p99 ${verdict.start.loopDelayP99Ms!.toFixed(1)} → ${verdict.end.loopDelayP99Ms!.toFixed(1)} ms`);
console.log(verdict.ok ? 'soak: PASS' : `soak: FAIL — ${verdict.failures.join('; ')}`);
process.exit(verdict.ok ? 0 : 1);
