// `npm run lab -- NN [--port P] [--solution]`: runs a stage's server (labs/NN-name/server.ts, or
// solutions/ with --solution) in a real-clock emulated kernel, behind the kernel's TCP bridge on
// 127.0.0.1:(7100 + NN), so the wizz CLI client can chat with it. Ctrl-C stops it cleanly.
// While it runs it shows the kernel's meter (wake-ups, fds inspected, bytes copied, per message),
// live on a terminal, and once more when it stops.
import fs from 'node:fs';
import path from 'node:path';
import { parseCommand } from '../server/util/cli.ts';
import { pathToFileURL } from 'node:url';
import { Kernel, bridge } from '#kernel/index.ts';
import type { RunServer } from '#kit/server-options.ts';
import { ChatRoom, MessageType } from '#kit/chat.ts';
import { formatMeter, tapIdleWaits } from './lib/lab-meter.ts';
import { c } from './lib/color.ts';
import { LABS, ROOT, SOLUTIONS } from './lib/paths.ts';
import { loadManifest, resolveStage } from './lib/stages.ts';

const USAGE = `usage: npm run lab -- NN [--port P] [--solution]    e.g. npm run lab -- 01
  runs stage NN's server (labs/NN-name/server.ts) on 127.0.0.1:(7100 + NN) with the kernel's meter live
  --port P     another port
  --solution   run the reference solution (solutions/) instead of yours`;
const { values, positionals } = parseCommand({ port: { type: 'string' }, solution: { type: 'boolean' } }, USAGE);
const stages = loadManifest();
if (positionals.length !== 1) {
  console.error(`${positionals.length ? 'one stage at a time' : 'which stage?'}\n\n${USAGE}`);
  process.exit(2);
}
const found = resolveStage(positionals[0]!, stages.map((s) => s.id));
if ('error' in found) {
  console.error(c.red(found.error));
  process.exit(2);
}
const id = found.id;
const base = values.solution ? SOLUTIONS : LABS;
const entry = path.join(base, id, 'server.ts');
if (!fs.existsSync(entry)) {
  const n = id.slice(0, 2);
  console.log(`${c.bold(id)} has no server to run: ${path.relative(ROOT, entry)} does not exist.`);
  console.log(`Grade it with ${c.cyan(`npm test -- ${n}`)}; stuck? ${c.cyan(`npm run hint -- ${n}`)}.`);
  process.exit(0);
}

const port = values.port !== undefined ? Number(values.port) : 7100 + Number(id.slice(0, 2));
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  console.error(c.red(`--port ${values.port}: expected a TCP port number`));
  process.exit(2);
}

// Count chat messages and members for the meter by tapping the lab chat every stage serves (one
// process, one ChatRoom class): the stage's code is not touched.
let messages = 0;
let connected = 0;
const { handle, join, leave } = ChatRoom.prototype;
ChatRoom.prototype.handle = function (this: ChatRoom, conn, frame) {
  const out = handle.call(this, conn, frame);
  if (frame.type === MessageType.SAY && out.length > 0 && out[0]!.to === conn) messages++;
  return out;
};
ChatRoom.prototype.join = function (this: ChatRoom, conn) {
  const out = join.call(this, conn);
  connected++;
  return out;
};
ChatRoom.prototype.leave = function (this: ChatRoom, conn) {
  if (this.nameOf(conn) !== undefined) connected--;
  return leave.call(this, conn);
};

const { runServer } = (await import(pathToFileURL(entry).href)) as { runServer: RunServer };
const kernel = new Kernel({ clock: 'real' });
const proc = kernel.spawn();
// The loop's idle timer ticks are counted apart, so "per message" is the messages' own cost.
const idle = { calls: 0, fdsInspected: 0, bytesCopied: 0 };
tapIdleWaits(proc, idle);
const controller = new AbortController();
// The emulated server listens on the same port number inside the emulator as the bridge outside.
const serving = runServer(proc, { port, signal: controller.signal });
serving.catch(() => undefined); // reported below, after the bridge is down

let tcp: Awaited<ReturnType<typeof bridge>>;
try {
  tcp = await bridge(kernel, { port, host: '127.0.0.1', tcpPort: port });
} catch (err) {
  controller.abort();
  const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
  console.error(c.red(`cannot listen on 127.0.0.1:${port}: ${(err as Error).message}`));
  if (inUse) console.error(`another lab may be running; pick another port: npm run lab -- ${id.slice(0, 2)} --port ${port + 100}`);
  process.exit(1);
}

console.log(`${c.bold(id)} (${values.solution ? 'solutions/' : 'labs/'}) is serving on ${c.cyan(`${tcp.address.host}:${tcp.address.port}`)}`);
console.log(`Chat with it from another terminal:  ${c.cyan(`npm run client -- --port ${tcp.address.port} --user alice`)}`);
console.log(c.dim('Open a second client to see messages go round. Ctrl-C stops the server.'));

// The meter: on a terminal, one line rewritten twice a second; otherwise a line whenever the
// number of messages or connections changes (idle ticks would print forever).
const reading = () => formatMeter({ calls: proc.meter.snapshot(), messages, connections: connected, idle });
const live = process.stdout.isTTY;
let printed = '';
const meterTimer = setInterval(() => {
  if (live) return void process.stdout.write(`\r\x1b[K${c.dim(reading())}`);
  const key = `${messages}/${connected}`;
  if (key !== printed) console.log(reading());
  printed = key;
}, live ? 500 : 2_000);
meterTimer.unref();
console.log(c.dim('The meter counts what the kernel charged your server (wake-ups, fds inspected, bytes copied):'));

let stopping = false;
async function stop(reason: string): Promise<never> {
  if (stopping) process.exit(1); // a second Ctrl-C: leave at once
  stopping = true;
  clearInterval(meterTimer);
  if (live) process.stdout.write('\r\x1b[K');
  console.log(reading());
  console.log(c.dim(`${reason}: stopping…`));
  controller.abort();
  let code = 0;
  try {
    await serving;
    const left = proc.openFds().filter((fd) => fd > 2);
    if (left.length > 0) console.log(c.yellow(`runServer returned but left fds open: ${left.join(', ')}`));
  } catch (err) {
    code = 1;
  }
  await tcp.close();
  process.exit(code);
}
process.on('SIGINT', () => void stop('Ctrl-C'));
process.on('SIGTERM', () => void stop('SIGTERM'));

// A crash ends the lab with the reason, the way a real server process would die.
serving.then(
  () => {
    if (!stopping) console.log(c.yellow('runServer returned on its own before being asked to stop.'));
  },
  async (err: unknown) => {
    console.error(c.red(`\nthe server crashed: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`));
    console.error(`The graders say more: ${c.cyan(`npm test -- ${id.slice(0, 2)}`)}`);
    if (!stopping) {
      await tcp.close();
      process.exit(1);
    }
  },
);
