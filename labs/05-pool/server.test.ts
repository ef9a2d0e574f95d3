// Stage 05 graders, part 2: the stage-03 chat server with its inbound buffers on the pool. The chat
// must still work (frames cut by read boundaries included); every chunk must come back when clients
// leave and when the server stops; and in a chat storm the buffers the server reads into are
// counted — never timed — against an unpooled allocator driven through the same server in the same run.
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Process } from '#kernel/index.ts';
import { MessageType } from '#kit/chat.ts';
import { StageRun, type Client } from '#kit/grading.ts';
import type { ServerOptions } from '#kit/server-options.ts';
import { encodeFrame } from '#server/protocol/frame.ts';
import { BufferPool, type Handle } from '#stage/05-pool/pool.ts';
import { INBOX_BYTES, defaultPool, runServer, type ChunkSource } from '#stage/05-pool/server.ts';

let run: StageRun | null = null;
afterEach(async () => {
  if (run && !run.stopped && !run.crashed) await run.dispose();
  run = null;
});

/** A debug pool (catches double release and use after release) that remembers the buffers it lent. */
function gradersPool(
  options: { chunksPerSlab: number; onExhausted: 'grow' | 'null'; maxSlabs?: number } = { chunksPerSlab: 16, onExhausted: 'grow', maxSlabs: 16 },
): { pool: BufferPool; lent: WeakSet<ArrayBufferLike> } {
  const pool = new BufferPool({ chunkSize: INBOX_BYTES, ...options, debug: true });
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
    const refusal = run.frames(bad!).find((f) => f.type === MessageType.ERROR)!;
    expect(String(refusal.body.message ?? ''), 'ERROR bad_frame for a header announcing length 0 says so in its message (a FrameError naming length 0)').toMatch(/length 0/);
    const id = run.ping(good!);
    await run.waitFor(() => run!.hasReply(good!, id), 'the other client to still get answers');
    await run.waitFor(() => pool.stats.inUse === 0, 'every chunk back after the bad frame (pool inUse 0)');
    await run.stop();
  });
});

describe('05-pool: the default pool', () => {
  it('without options.pool the server takes a growing pool of whole-frame chunks, and serves the chat', async () => {
    const pool = defaultPool();
    expect({ chunkSize: pool.chunkSize, onExhausted: pool.onExhausted }, 'defaultPool(): chunks that hold a whole frame, growing when empty').toEqual({
      chunkSize: INBOX_BYTES,
      onExhausted: 'grow',
    });
    run = new StageRun(runServer);
    const [alice, bob] = await run.connect(2);
    await run.sayAndWait(alice!, 'no pool given', [bob!]);
    await run.stop();
  });
});

describe('05-pool: frame limits in the chunk', () => {
  it('the largest frame (65,536 bytes) cut by reads completes in its chunk; one byte more is ERROR bad_frame', async () => {
    const { pool } = gradersPool();
    run = start(pool);
    const [big, hostile] = await run.connect(2);
    // A PING padded to the largest frame: {"id":"max","pad":"…"} is 21 bytes + the padding, plus the type byte.
    const frame = encodeFrame(MessageType.PING, { id: 'max', pad: 'p'.repeat(65_536 - 22) });
    expect(frame.length, 'test setup: a frame of exactly 65,536 bytes after its header').toBe(4 + 65_536);
    for (let at = 0; at < frame.length; at += 20_000) big!.send(frame.subarray(at, Math.min(frame.length, at + 20_000)));
    await run.waitFor(
      () => run!.frames(big!).some((f) => f.type === MessageType.OK && f.body.re === 'max'),
      'the OK for the largest valid frame (65,536 bytes), sent in four pieces: it must complete in its one chunk',
    );
    const header = new Uint8Array(4);
    new DataView(header.buffer).setUint32(0, 65_537, false);
    hostile!.send(header);
    await run.waitFor(
      () => run!.frames(hostile!).some((f) => f.type === MessageType.ERROR && f.body.code === 'bad_frame'),
      'ERROR bad_frame for a header announcing 65,537 bytes (no chunk can hold that frame)',
    );
    const refusal = run.frames(hostile!).find((f) => f.type === MessageType.ERROR)!;
    expect(String(refusal.body.message ?? ''), 'ERROR bad_frame for a frame of 65,537 bytes says why in its message (the length and the limit)').toMatch(/65537/);
    await run.waitFor(() => pool.stats.inUse === 0, 'every chunk back (pool inUse 0)');
    await run.stop();
  });

  it('refuses a pool whose chunks cannot hold a whole frame', async () => {
    const small = new BufferPool({ chunkSize: 4096, chunksPerSlab: 4 });
    run = start(small);
    await run.kernel.settle();
    expect(run.crashed, `runServer must reject a pool of ${small.chunkSize}-byte chunks: a frame cut by a read would not fit`).toBeInstanceOf(RangeError);
    expect(String((run.crashed as Error).message), 'the RangeError says what a chunk must hold').toMatch(/whole frame/);
    run = null;
  });
});

describe('05-pool: a conversation that ends', () => {
  it('after a frame of unknown type: ERROR bad_frame, nothing after it in the chunk is served, the chunk comes back', async () => {
    const { pool } = gradersPool();
    run = start(pool);
    const [rogue, other] = await run.connect(2);
    const unknown = encodeFrame(0x7f, {});
    const ping = encodeFrame(MessageType.PING, { id: 'after-unknown' });
    const both = new Uint8Array(unknown.length + ping.length);
    both.set(unknown);
    both.set(ping, unknown.length);
    rogue!.send(both);
    await run.waitFor(() => run!.frames(rogue!).some((f) => f.type === MessageType.ERROR && f.body.code === 'bad_frame'), 'ERROR bad_frame for a frame of unknown type');
    await run.waitFor(() => rogue!.closedByPeer, 'the server to close the connection once the ERROR is sent');
    expect(run.hasReply(rogue!, 'after-unknown'), 'a request after the frame that ended the conversation must not be answered').toBe(false);
    const id = run.ping(other!);
    await run.waitFor(() => run!.hasReply(other!, id), 'the other client to be served as before');
    await run.waitFor(() => pool.stats.inUse === 0, 'every chunk back (pool inUse 0)');
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
/** Rounds of the storm: 40, or WIZZ_STORM_ROUNDS (mutation runs use fewer: the counts below hold from the first rounds on). */
const MESSAGES = Number(process.env.WIZZ_STORM_ROUNDS) > 0 ? Number(process.env.WIZZ_STORM_ROUNDS) : 40;

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

/** Counts reads from now on into buffers the pool did not lend (each one is an allocation the pool was meant to save). */
function watchForeignReads(r: StageRun, lent: WeakSet<ArrayBufferLike>): { reads: number; foreign: number } {
  const seen = { reads: 0, foreign: 0 };
  const read = r.proc.read.bind(r.proc);
  r.proc.read = (fd: number, buf: Uint8Array) => {
    seen.reads++;
    if (!lent.has(buf.buffer)) seen.foreign++;
    return read(fd, buf);
  };
  return seen;
}

/** Virtual ms within which starved clients must be served once chunks come back (no wake-up timeout to wait for). */
const STARVED_RESUME_MS = 100;

describe('05-pool: when the pool runs dry', () => {
  // A pool of `chunks` chunks that never grows. `chunks` clients each hold one with half a frame;
  // the others then send whole SAYs and find the pool empty. They must wait (backpressure: their
  // bytes stay in the kernel), read nothing into memory of their own, and be served as soon as a
  // chunk comes back — by a holder finishing its frame, or leaving.
  it('starved clients resume when chunks come back, and no read lands outside the pool (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.constantFrom<'finishes' | 'leaves'>('finishes', 'leaves'), { minLength: 3, maxLength: 3 }),
        async (chunks, waiting, fates) => {
          const { pool, lent } = gradersPool({ chunksPerSlab: chunks, onExhausted: 'null' });
          const r = (run = start(pool));
          const [listener, ...rest] = await r.connect(1 + chunks + waiting);
          const holders = rest.slice(0, chunks);
          const starved = rest.slice(chunks);
          const reads = watchForeignReads(r, lent);
          const halves = holders.map((_, i) => halfSay(`held ${i} `.padEnd(2000, '-')));
          holders.forEach((c, i) => c.send(halves[i]!.head));
          await r.waitFor(() => pool.stats.inUse === chunks, `the ${chunks} holders' half frames to take all ${chunks} chunks`);
          starved.forEach((c, i) => c.send(encodeFrame(MessageType.SAY, { id: `st${i}`, text: `starved ${i}` })));
          await r.idle(20);
          const story =
            `pool of ${chunks} chunk(s), 'null' policy; ${chunks} client(s) hold one each with half a frame, ` +
            `${waiting} more send a SAY while the pool is empty; then the holders ${holders.map((_, i) => fates[i % fates.length]).join(', ')}`;
          expect(reads.foreign, `${story}: read() wrote into a buffer the pool did not lend while the pool was dry — never fall back to new Uint8Array; leave the bytes in the kernel (README step 6)`).toBe(0);
          // Chunks come back, one holder at a time.
          const returned = r.kernel.now();
          holders.forEach((c, i) => (fates[i % fates.length] === 'finishes' ? c.send(halves[i]!.tail) : c.close()));
          try {
            await r.waitFor(
              () => starved.every((_, i) => r.heard(listener!, `starved ${i}`).length === 1),
              'every starved client\'s SAY to reach the listener',
            );
          } catch (err) {
            const served = starved.filter((_, i) => r.heard(listener!, `starved ${i}`).length === 1).length;
            throw new Error(
              `${story}: only ${served} of the ${waiting} starved client(s) were ever served, with ${pool.stats.inUse} chunk(s) in use. ` +
                'A client that found the pool empty must be read again once a chunk comes back: its bytes are already in the ' +
                `kernel and an edge-triggered epoll will not report them again (this.starved, resumeStarved()). (${(err as Error).message})`,
            );
          }
          const waited = r.kernel.now() - returned;
          expect(
            waited,
            `${story}: the starved clients were served ${waited} virtual ms after the chunks came back — at once is due: ` +
              'resume every starved client the pool can serve in the same pass, not one per wake-up (resumeStarved())',
          ).toBeLessThan(STARVED_RESUME_MS);
          expect(reads.foreign, `${story}: read() wrote into a buffer the pool did not lend (README step 6)`).toBe(0);
          await r.waitFor(() => pool.stats.inUse === 0, `${story}: every chunk back once everyone was served`);
          const id = r.ping(listener!);
          await r.waitFor(() => r.hasReply(listener!, id), `${story}: the server to keep serving afterwards`);
          await r.stop();
          run = null;
        },
      ),
      { numRuns: 12, seed: 23 },
    );
  });
});
