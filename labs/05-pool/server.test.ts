// Stage 05 graders, part 2: the stage-03 chat server with its inbound buffers on the pool. The chat
// must still work (frames cut by read boundaries included); every chunk must come back when clients
// leave and when the server stops; and in a chat storm the buffers the server reads into are
// counted — never timed — against an unpooled allocator driven through the same server in the same run.
import { afterEach, describe, expect, it } from 'vitest';
import type { Process } from '#kernel/index.ts';
import { MessageType } from '#kit/chat.ts';
import { StageRun, type Client } from '#kit/grading.ts';
import type { ServerOptions } from '#kit/server-options.ts';
import { encodeFrame } from '#server/protocol/frame.ts';
import { BufferPool, type Handle } from '#stage/05-pool/pool.ts';
import { INBOX_BYTES, runServer, type ChunkSource } from '#stage/05-pool/server.ts';

let run: StageRun | null = null;
afterEach(async () => {
  if (run && !run.stopped && !run.crashed) await run.dispose();
  run = null;
});

/** A debug pool (catches double release and use after release) that remembers the buffers it lent. */
function gradersPool(): { pool: BufferPool; lent: WeakSet<ArrayBufferLike> } {
  const pool = new BufferPool({ chunkSize: INBOX_BYTES, chunksPerSlab: 16, onExhausted: 'grow', maxSlabs: 16, debug: true });
  const lent = new WeakSet<ArrayBufferLike>();
  const bytes = pool.bytes.bind(pool);
  pool.bytes = (h: Handle) => {
    const view = bytes(h);
    lent.add(view.buffer);
    return view;
  };
  return { pool, lent };
}

/** The unpooled baseline: the same interface, a fresh buffer on every acquire. */
class Unpooled implements ChunkSource {
  readonly chunkSize = INBOX_BYTES;
  private readonly live = new Map<Handle, Uint8Array>();
  private next = 0;
  allocations = 0;
  acquire(): Handle {
    this.allocations++;
    this.live.set(++this.next, new Uint8Array(this.chunkSize));
    return this.next;
  }
  release(h: Handle): void {
    this.live.delete(h);
  }
  bytes(h: Handle): Uint8Array {
    return this.live.get(h)!;
  }
}

function start(pool: ChunkSource): StageRun {
  return new StageRun((proc: Process, options: ServerOptions) => runServer(proc, { ...options, pool }));
}

/** Counts the distinct backing buffers read() writes into from now on (a new one = an allocation). */
function watchReads(r: StageRun): { reads: number; buffers: Set<ArrayBufferLike> } {
  const seen = { reads: 0, buffers: new Set<ArrayBufferLike>() };
  const read = r.proc.read.bind(r.proc);
  r.proc.read = (fd: number, buf: Uint8Array) => {
    seen.reads++;
    seen.buffers.add(buf.buffer);
    return read(fd, buf);
  };
  return seen;
}

/** The first `cut` bytes of a SAY frame (a frame the server has to hold while it waits for the rest). */
function halfSay(text: string): { head: Uint8Array; tail: Uint8Array } {
  const frame = encodeFrame(MessageType.SAY, { id: `say:${text}`, text });
  const cut = Math.floor(frame.length / 2);
  return { head: frame.subarray(0, cut), tail: frame.subarray(cut) };
}

describe('05-pool: the chat on pooled buffers', () => {
  it('still serves the chat, and a frame cut in two waits in its client\'s chunk', async () => {
    const { pool } = gradersPool();
    run = start(pool);
    const [alice, bob, carol] = await run.connect(3);
    await run.sayAndWait(alice!, 'hello', [bob!, carol!]);
    await run.waitFor(() => run!.hasReply(alice!, 'say:hello'), 'alice to get OK for her SAY');
    const { head, tail } = halfSay('cut '.padEnd(3000, 'x'));
    bob!.send(head);
    await run.waitFor(() => pool.stats.inUse === 1, 'the server to keep bob\'s half frame in one chunk (pool inUse 1)');
    await run.idle(50);
    expect(run.frames(carol!).filter((f) => String(f.body.text).startsWith('cut ')), 'nothing is delivered from half a frame').toEqual([]);
    bob!.send(tail);
    await run.waitFor(() => run!.heard(carol!, 'cut '.padEnd(3000, 'x')).length === 1, 'carol to hear bob\'s frame once its second half arrived');
    await run.waitFor(() => pool.stats.inUse === 0, 'the chunk to go back once the frame was complete (pool inUse 0)');
    await run.stop();
  });

  it('answers a bad frame with ERROR bad_frame and gives that client\'s chunk back', async () => {
    const { pool } = gradersPool();
    run = start(pool);
    const [good, bad] = await run.connect(2);
    bad!.send(Uint8Array.from([0, 0, 0, 0]));
    await run.waitFor(() => run!.frames(bad!).some((f) => f.type === MessageType.ERROR && f.body.code === 'bad_frame'), 'ERROR bad_frame');
    const id = run.ping(good!);
    await run.waitFor(() => run!.hasReply(good!, id), 'the other client to still get answers');
    await run.waitFor(() => pool.stats.inUse === 0, 'every chunk back after the bad frame (pool inUse 0)');
    await run.stop();
  });
});

describe('05-pool: every chunk comes back', () => {
  it('when clients leave in the middle of a frame', async () => {
    const { pool } = gradersPool();
    run = start(pool);
    const clients = await run.connect(6);
    const leaving = clients.slice(1);
    leaving.forEach((c, i) => c.send(halfSay(`unfinished ${i}`).head));
    await run.waitFor(() => pool.stats.inUse === leaving.length, `the server to hold one chunk for each of the ${leaving.length} half frames`);
    leaving.forEach((c) => c.close());
    try {
      await run.waitFor(() => pool.stats.inUse === 0, 'pool inUse to return to 0 after the clients left');
    } catch {
      throw new Error(
        `${pool.stats.inUse} chunk(s) still in use after ${leaving.length} clients left mid-frame: a chunk ` +
          'a client holds must be released when it disconnects, or the pool leaks one per departure',
      );
    }
    await run.sayAndWait(clients[0]!, 'alone now', [], 'the server to keep serving the one who stayed');
    await run.stop();
  });

  it('when the server stops with clients in the middle of a frame', async () => {
    const { pool } = gradersPool();
    run = start(pool);
    const clients = await run.connect(4);
    clients.forEach((c, i) => c.send(halfSay(`pending ${i}`).head));
    await run.waitFor(() => pool.stats.inUse === clients.length, 'the server to hold a chunk for each half frame');
    await run.stop();
    expect(pool.stats.inUse, 'chunks still in use after runServer resolved: closeAll must release every client\'s chunk').toBe(0);
    expect(run.openFds(), 'fds still open after runServer resolved').toEqual([]);
  });
});

const CLIENTS = 50;
const MESSAGES = 40;

interface StormCount {
  reads: number;
  /** Distinct buffers read() wrote into during the storm. */
  readBuffers: number;
  /** Reads into a buffer the pool did not lend (only meaningful for the pooled run). */
  foreignReads: number;
}

/** Warm up (everyone says one thing), then CLIENTS × MESSAGES SAYs, sent in rounds. */
async function storm(r: StageRun, lent?: WeakSet<ArrayBufferLike>, onWarm?: () => void): Promise<StormCount> {
  const clients = await r.connect(CLIENTS);
  const roomFrames = (c: Client) => r.frames(c).filter((f) => f.type === MessageType.ROOM).length;
  const everyoneHeard = (n: number) => () => clients.every((c) => roomFrames(c) >= n * (CLIENTS - 1));
  clients.forEach((c, i) => c.send(encodeFrame(MessageType.SAY, { id: `w${i}`, text: `warm ${i}` })));
  await r.waitFor(everyoneHeard(1), 'the warm-up round to reach everyone');
  onWarm?.();
  const count = { reads: 0, buffers: new Set<ArrayBufferLike>(), foreign: 0 };
  const seen = watchReads(r);
  for (let m = 0; m < MESSAGES; m++) {
    clients.forEach((c, i) => c.send(encodeFrame(MessageType.SAY, { id: `s${i}.${m}`, text: `storm ${i}.${m} `.padEnd(200, '~') })));
    await r.waitFor(everyoneHeard(m + 2), `storm round ${m + 1} of ${MESSAGES} to reach all ${CLIENTS} clients`);
  }
  count.reads = seen.reads;
  for (const b of seen.buffers) if (lent && !lent.has(b)) count.foreign++;
  await r.stop();
  return { reads: count.reads, readBuffers: seen.buffers.size, foreignReads: count.foreign };
}

describe('05-pool: allocations in a chat storm, counted', () => {
  it(`${CLIENTS} clients × ${MESSAGES} messages: buffers bounded by connections, none per message after warm-up`, async () => {
    const { pool, lent } = gradersPool();
    run = start(pool);
    let warm = pool.stats;
    const pooled = await storm(run, lent, () => (warm = pool.stats));
    const after = pool.stats;

    const unpooled = new Unpooled();
    run = start(unpooled);
    const base = await storm(run);

    const messages = CLIENTS * MESSAGES;
    const detail =
      `\n  pooled:   ${pooled.reads} reads into ${pooled.readBuffers} distinct buffers; pool highWater ${after.highWater}, ` +
      `misses ${warm.misses} → ${after.misses}, inUse ${after.inUse}` +
      `\n  unpooled: ${base.reads} reads into ${base.readBuffers} distinct buffers (${unpooled.allocations} allocations)`;

    expect(base.readBuffers, `the unpooled baseline should allocate per read — check the grader${detail}`).toBeGreaterThanOrEqual(messages / 4);
    expect(pooled.foreignReads, `read() wrote into buffers the pool never lent: read into the client's chunk${detail}`).toBe(0);
    expect(
      pooled.readBuffers,
      `the pooled server read into ${pooled.readBuffers} different buffers for ${messages} messages: a fresh buffer per read ` +
        `is exactly what the pool is for — take the client's chunk from the pool${detail}`,
    ).toBeLessThanOrEqual(after.slabs);
    expect(after.highWater, `more chunks in use at once than there are clients: one chunk per client at most${detail}`).toBeLessThanOrEqual(CLIENTS + 2);
    expect(after.misses, `the pool had to grow during the storm, after the warm-up: chunks are not coming back${detail}`).toBe(warm.misses);
    expect(after.inUse, `chunks still in use after the storm ended and the server stopped${detail}`).toBe(0);
    expect(pooled.readBuffers * 20, `pooled buffers must be far fewer than the baseline's${detail}`).toBeLessThan(base.readBuffers);
  });
});
