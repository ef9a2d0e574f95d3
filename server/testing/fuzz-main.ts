// `npm run fuzz -- [--frames N] [--reactors 1|2] [--seed S]`: the fuzzing of server/test/fuzz.test.ts
// for longer (default 500,000 frames per reactor count, 1 then 2 reactors), against the whole server
// in this process. Exits 1 on the first case answered against the documentation, on a connection
// or pooled frame left behind, on a bug a reactor logged, or on an unhandled rejection.
// `--port P` fuzzes a server started apart (`npm start -- --port P`) instead: every reply is
// checked, and the server must still answer a new client at the end (its pool and connections are
// then for its own `sample` statistics to show).
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startHarness } from './harness.ts';
import { tempDir } from './helpers.ts';
import { fuzzServer } from './fuzz.ts';
import { WizzClient } from '../client/wizz-client.ts';
import { Req, Srv } from '../protocol/codes.ts';

const { values } = parseArgs({
  options: { frames: { type: 'string', default: '500000' }, reactors: { type: 'string' }, seed: { type: 'string' }, port: { type: 'string' } },
});
const frames = Number(values.frames);
if (!Number.isInteger(frames) || frames < 1) {
  console.error(`--frames must be a positive integer, got "${values.frames}"`);
  process.exit(2);
}
const counts = values.reactors ? [Number(values.reactors)] : [1, 2];
const seed = values.seed === undefined ? undefined : Number(values.seed);

const problems: string[] = [];
process.on('unhandledRejection', (err) => problems.push(`unhandled rejection: ${(err as Error)?.stack ?? err}`));

if (values.port !== undefined) {
  const port = Number(values.port);
  try {
    const result = await fuzzServer({ ports: [port], frames, seed });
    const probe = await WizzClient.connect(port);
    const pong = await probe.request(Req.PING, {}, 5_000);
    await probe.close();
    if (pong.type !== Srv.OK) problems.push(`after the fuzzing, PING got ${JSON.stringify(pong.body)}`);
    console.log(`port ${port}: ${result.frames.toLocaleString('en')} frames (${result.sessions} sessions, ${result.streams} broken streams), seed ${result.seed}; still serving`);
  } catch (err) {
    problems.push((err as Error).message);
  }
}

for (const reactors of values.port === undefined ? counts : []) {
  const h = await startHarness({
    dbFile: path.join(tempDir(), 'wizz.db'),
    reactors,
    log: (line) => problems.push(line),
    policy: { requests: { burst: 0, refillPerS: 0 } },
  });
  const started = Date.now();
  let last = 0;
  try {
    const result = await fuzzServer({
      ports: h.ports,
      frames,
      seed,
      onProgress: (n) => {
        if (n - last >= 50_000) {
          last = n;
          process.stdout.write(`  ${reactors} reactor(s): ${n.toLocaleString('en')} frames\r`);
        }
      },
    });
    const deadline = Date.now() + 10_000;
    const settled = () => h.reactors.every((r) => r.connectionCount === 0 && r.pool.stats.liveFrames === 0 && r.pool.stats.slabsPinned === 0);
    while (!settled() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    for (const [i, r] of h.reactors.entries()) {
      const s = r.stats();
      if (s.connections !== 0) problems.push(`reactor ${i + 1}: ${s.connections} connection(s) left open`);
      if (s.pool.liveFrames !== 0 || s.pool.slabsPinned !== 0) problems.push(`reactor ${i + 1}: pool not back to baseline: ${JSON.stringify(s.pool)}`);
    }
    const secs = (Date.now() - started) / 1000;
    console.log(
      `${reactors} reactor(s): ${result.frames.toLocaleString('en')} frames (${result.sessions} sessions, ${result.streams} broken streams) in ${secs.toFixed(1)} s, seed ${result.seed}`,
    );
  } catch (err) {
    problems.push((err as Error).message);
  } finally {
    await h.stop();
  }
  if (problems.length > 0) break;
}

if (problems.length > 0) {
  console.error(`FAILED:\n${problems.slice(0, 20).join('\n')}`);
  process.exit(1);
}
console.log('ok: every frame answered as documented, nothing left behind');
process.exit(0);
