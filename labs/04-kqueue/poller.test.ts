// Grader for stage 04, part 1 — the Poller contract (poller.ts), checked on every backend directly,
// without a server: what wait() reports, level- versus edge-triggering as each backend promises,
// remove() before close() leaving nothing behind for the next owner of the fd number, and kqueue's
// changelist going to the kernel with the next wait instead of one kevent per change.
import { describe, expect, it } from 'vitest';
import { Kernel, RLIMIT_NOFILE, SOCK_NONBLOCK, type KEvent, type Process, type SimClient } from '#kernel/index.ts';
import { openListener } from '#kit/listen.ts';
import { createPoller } from '#stage/04-kqueue/backends.ts';
import { BACKENDS, PollerError, type BackendName, type Interest, type Poller, type Ready } from '#stage/04-kqueue/poller.ts';

const READS: Interest = { readable: true, writable: false };
const READS_AND_WRITES: Interest = { readable: true, writable: true };
const EDGE: Record<BackendName, boolean> = { select: false, poll: false, epoll: true, kqueue: true };
const PORT = 7000;

/** A kernel, a process with a listener, and a way to get connected (server-side fd, client) pairs. */
class Bench {
  readonly kernel = new Kernel({ clock: 'virtual', seed: 7 });
  readonly proc: Process = this.kernel.spawn();
  readonly listener = openListener(this.proc, PORT);

  async connect(): Promise<{ fd: number; client: SimClient }> {
    const client = this.kernel.client(PORT);
    await this.kernel.settle();
    const fd = this.proc.accept4(this.listener, SOCK_NONBLOCK);
    if (fd < 0) throw new Error(`test setup: accept4 returned ${fd}`);
    return { fd, client };
  }

  /** Lets the simulated clients run, then one non-blocking wait(). */
  async waitNow(poller: Poller): Promise<Ready[]> {
    await this.kernel.settle();
    return poller.wait(0);
  }
}

function entry(ready: Ready[], fd: number): Ready | undefined {
  return ready.find((r) => r.fd === fd);
}

function show(ready: Ready[]): string {
  return JSON.stringify(ready);
}

describe.each(BACKENDS)('04-kqueue: the Poller contract on %s', (backend) => {
  it(`is named '${backend}'`, () => {
    const bench = new Bench();
    const poller = createPoller(bench.proc, backend);
    expect(poller.name, 'Poller.name says which mechanism it is (the server names it in ERROR server_full)').toBe(backend);
    poller.close();
  });

  if (backend === 'epoll' || backend === 'kqueue') {
    it('throws a PollerError when the kernel refuses to create it (no fd left: EMFILE)', () => {
      const bench = new Bench();
      const open = bench.proc.openFds().length;
      expect(bench.proc.setrlimit(RLIMIT_NOFILE, { soft: open, hard: open }), 'test setup: setrlimit').toBe(0);
      let error: unknown;
      try {
        createPoller(bench.proc, backend);
      } catch (e) {
        error = e;
      }
      expect(error, `${backend === 'kqueue' ? 'kqueue()' : 'epoll_create1()'} failed with EMFILE: the constructor must throw a PollerError, not keep a negative fd`).toBeInstanceOf(
        PollerError,
      );
      expect(String((error as Error).message), 'the PollerError names the backend and says what failed').toMatch(new RegExp(`^${backend} poller: .*EMFILE`));
    });
  }

  it('reports a watched fd readable when bytes arrive, and nothing before', async () => {
    const bench = new Bench();
    const poller = createPoller(bench.proc, backend);
    const { fd, client } = await bench.connect();
    expect(poller.add(fd, READS), 'add() of a fresh fd returns 0').toBe(0);
    const before = await bench.waitNow(poller);
    expect(entry(before, fd), `wait() reported fd ${fd} before anything arrived: ${show(before)}`).toBeUndefined();
    client.send('hello');
    const after = await bench.waitNow(poller);
    expect(entry(after, fd), `wait() after the client sent bytes: ${show(after)}`).toEqual({ fd, readable: true, writable: false });
    poller.close();
  });

  it('reports writes only while they are watched, and one Ready per fd', async () => {
    const bench = new Bench();
    const poller = createPoller(bench.proc, backend);
    const { fd, client } = await bench.connect();
    poller.add(fd, READS);
    const unwatched = await bench.waitNow(poller);
    expect(entry(unwatched, fd)?.writable ?? false, `an empty socket is writable, but writes are not watched: ${show(unwatched)}`).toBe(false);
    client.send('bytes to read');
    expect(poller.modify(fd, READS_AND_WRITES), 'modify() of a watched fd returns 0').toBe(0);
    const both = await bench.waitNow(poller);
    expect(
      both.filter((r) => r.fd === fd),
      `bytes arrived and writes are now watched on a writable socket: one Ready with both flags, not two: ${show(both)}`,
    ).toEqual([{ fd, readable: true, writable: true }]);
    bench.proc.read(fd, new Uint8Array(64));
    poller.modify(fd, READS);
    const again = await bench.waitNow(poller);
    expect(entry(again, fd)?.writable ?? false, `after modify(fd, {writable: false}) writes are not reported: ${show(again)}`).toBe(false);
    poller.close();
  });

  const kind = EDGE[backend] ? 'edge-triggered: unread bytes are reported once' : 'level-triggered: unread bytes are reported on every wait';
  it(kind, async () => {
    const bench = new Bench();
    const poller = createPoller(bench.proc, backend);
    const { fd, client } = await bench.connect();
    poller.add(fd, READS);
    client.send('first');
    const first = await bench.waitNow(poller);
    expect(entry(first, fd)?.readable, `bytes arrived: ${show(first)}`).toBe(true);
    const second = await bench.waitNow(poller); // nothing was read in between
    if (EDGE[backend]) {
      expect(
        entry(second, fd),
        `${backend} must be edge-triggered (${backend === 'kqueue' ? 'EV_CLEAR' : 'EPOLLET'}): the same unread bytes were ` +
          `reported again (${show(second)}). Without it every wait re-reports everything still pending (hint 2).`,
      ).toBeUndefined();
      client.send('more');
      const third = await bench.waitNow(poller);
      expect(entry(third, fd)?.readable, `new bytes are a new edge and must be reported: ${show(third)}`).toBe(true);
    } else {
      expect(entry(second, fd)?.readable, `${backend} is level-triggered: still-unread bytes are reported again (${show(second)})`).toBe(true);
    }
    poller.close();
  });

  const writeKind = EDGE[backend]
    ? 'edge-triggered writes too: a socket with room is reported writable once'
    : 'level-triggered writes: a socket with room is reported writable on every wait';
  it(writeKind, async () => {
    const bench = new Bench();
    const poller = createPoller(bench.proc, backend);
    const { fd } = await bench.connect();
    poller.add(fd, READS_AND_WRITES);
    const first = await bench.waitNow(poller);
    expect(entry(first, fd), `an empty socket with writes watched is writable, and nothing arrived to read: ${show(first)}`).toEqual({
      fd,
      readable: false,
      writable: true,
    });
    const second = await bench.waitNow(poller); // nothing written, nothing drained in between
    if (!EDGE[backend]) {
      expect(entry(second, fd)?.writable, `${backend} is level-triggered: a socket with room is reported writable again (${show(second)})`).toBe(true);
      poller.close();
      return;
    }
    expect(
      entry(second, fd)?.writable ?? false,
      `${backend} must be edge-triggered for writes as well as reads (${backend === 'kqueue' ? 'EV_CLEAR on the EVFILT_WRITE change too' : 'EPOLLET'}): ` +
        `the same free space was reported again (${show(second)}). A server watching writes while its queue drains would wake ` +
        'on every wait for nothing (hint 2).',
    ).toBe(false);
    poller.close();
  });

  // The kernel's rarer answer (issue 20, class 4): poll and epoll report POLLHUP/POLLERR even for
  // an fd watched for nothing (a paused client), so the hang-up arrives without POLLIN or POLLOUT.
  it.runIf(backend === 'poll' || backend === 'epoll')('reports a hang-up that comes without POLLIN/POLLOUT (fd watched for nothing) as readable', async () => {
    const bench = new Bench();
    const poller = createPoller(bench.proc, backend);
    const { fd, client } = await bench.connect();
    poller.add(fd, { readable: false, writable: false }); // e.g. a client the server stopped reading
    client.reset();
    const ready = await bench.waitNow(poller);
    expect(
      entry(ready, fd)?.readable,
      `the peer reset an fd watched for nothing: ${backend} reports ${backend === 'poll' ? 'POLLERR|POLLHUP' : 'EPOLLERR|EPOLLHUP'} anyway (they cannot be unasked), ` +
        `without ${backend === 'poll' ? 'POLLIN' : 'EPOLLIN'}, and wait() gave ${show(ready)}. The contract: an error or a hang-up comes back as readable, so the read that follows ` +
        `finds it and the server closes the fd. Where to look: poller-${backend}.ts, where events become a Ready — count the error and hang-up bits whatever was asked. Replay: npm test -- 04`,
    ).toBe(true);
    expect(bench.proc.read(fd, new Uint8Array(16)), 'read() after the reset').toBeLessThan(0);
    poller.close();
  });

  it('reports a peer that closed as readable; the read then returns 0', async () => {
    const bench = new Bench();
    const poller = createPoller(bench.proc, backend);
    const { fd, client } = await bench.connect();
    poller.add(fd, READS);
    client.close();
    const ready = await bench.waitNow(poller);
    expect(entry(ready, fd)?.readable, `after the peer closed (kqueue: EV_EOF on the read filter): ${show(ready)}`).toBe(true);
    expect(bench.proc.read(fd, new Uint8Array(16)), 'read() after the peer closed').toBe(0);
    poller.close();
  });

  it('after remove() and close(), the next socket with the same fd number starts clean', async () => {
    const bench = new Bench();
    const poller = createPoller(bench.proc, backend);
    const old = await bench.connect();
    poller.add(old.fd, READS);
    await bench.waitNow(poller);
    // A write interest changed just before the client went away: on kqueue it is still waiting in
    // the changelist when remove() and close() happen.
    poller.modify(old.fd, READS_AND_WRITES);
    expect(poller.remove(old.fd), 'remove() of a watched fd returns 0').toBe(0);
    bench.proc.close(old.fd);
    const next = await bench.connect();
    expect(next.fd, 'test setup: the new connection reuses the lowest free fd').toBe(old.fd);
    expect(poller.add(next.fd, READS), `add() of fd ${next.fd}, reused after remove() + close()`).toBe(0);
    let ready: Ready[] = [];
    try {
      ready = await bench.waitNow(poller);
    } catch (err) {
      throw new Error(`wait() failed after an fd was removed, closed and reused: ${(err as Error).message}`);
    }
    expect(
      entry(ready, next.fd)?.writable ?? false,
      `fd ${next.fd} is watched for reads only, yet was reported writable: something of its previous owner ` +
        `survived remove() (on kqueue: a change still in the changelist — hint 3). wait() returned ${show(ready)}`,
    ).toBe(false);
    next.client.send('new owner');
    const later = await bench.waitNow(poller);
    expect(entry(later, next.fd)?.readable, `the new owner's bytes are reported: ${show(later)}`).toBe(true);
    poller.close();
  });

  it('refuses to add an fd twice, and to modify or remove an fd it does not watch', async () => {
    const bench = new Bench();
    const poller = createPoller(bench.proc, backend);
    const { fd } = await bench.connect();
    const other = await bench.connect(); // open, never added
    expect(poller.add(fd, READS)).toBe(0);
    expect(poller.add(fd, READS), 'a second add() of the same fd returns -EEXIST (-17)').toBe(-17);
    expect(poller.modify(other.fd, READS), 'modify() of an fd never added returns -ENOENT (-2)').toBe(-2);
    expect(poller.remove(other.fd), 'remove() of an fd never added returns -ENOENT (-2)').toBe(-2);
    poller.close();
  });
});

describe('04-kqueue: kqueue errors and clean-up', () => {
  it('a change the kernel refuses (an fd closed without remove()) makes wait() throw a PollerError naming the fd', async () => {
    const bench = new Bench();
    const poller = createPoller(bench.proc, 'kqueue');
    const { fd } = await bench.connect();
    poller.add(fd, READS); // still in the changelist…
    bench.proc.close(fd); // …when the fd goes away: the kernel answers the EV_ADD with EV_ERROR (EBADF)
    let error: unknown;
    try {
      await bench.waitNow(poller);
    } catch (e) {
      error = e;
    }
    expect(error, 'kevent() put an EV_ERROR event (data = EBADF) in the eventlist: wait() must turn it into a PollerError, not report it as ready (step 1)').toBeInstanceOf(
      PollerError,
    );
    expect(String((error as Error).message), 'the PollerError names the fd whose change failed').toContain(String(fd));
    expect(String((error as Error).message), 'the PollerError names the backend').toContain('kqueue');
    poller.close();
  });

  it('a kevent() that fails outright (the kqueue fd is gone) makes wait() throw a PollerError', async () => {
    const bench = new Bench();
    const poller = createPoller(bench.proc, 'kqueue');
    const before = bench.proc.openFds();
    poller.close();
    const closed = before.filter((fd) => !bench.proc.openFds().includes(fd));
    expect(closed.length, 'close() releases the kqueue fd').toBe(1);
    await expect(poller.wait(0), 'kevent() on a closed kqueue fails with EBADF: wait() must throw a PollerError').rejects.toBeInstanceOf(PollerError);
    await expect(poller.wait(0), 'the PollerError names the backend and the errno').rejects.toThrow(/kqueue.*EBADF/);
  });
});

describe('04-kqueue: the changelist', () => {
  it('remove() drops the pending changes of its fd only', async () => {
    const bench = new Bench();
    const poller = createPoller(bench.proc, 'kqueue');
    const gone = await bench.connect();
    const stays = await bench.connect();
    poller.add(stays.fd, READS);
    poller.add(gone.fd, READS);
    poller.remove(gone.fd); // before any wait: both adds are still in the changelist
    bench.proc.close(gone.fd);
    stays.client.send('still watched');
    const ready = await bench.waitNow(poller);
    expect(ready, `fd ${stays.fd} was added, then another fd was removed: its own change must still reach the kernel (hint 3: filter by ident)`).toEqual([
      { fd: stays.fd, readable: true, writable: false },
    ]);
    poller.close();
  });

  it('gives every add and modify to the kernel with the next wait: one kevent() call, not one per change', async () => {
    const bench = new Bench();
    const poller = createPoller(bench.proc, 'kqueue');
    let submitted = 0; // changelist entries handed to kevent()
    const realKevent = bench.proc.kevent.bind(bench.proc);
    Object.defineProperty(bench.proc, 'kevent', {
      configurable: true,
      value: (kq: number, changelist: KEvent[], ...rest: [KEvent[], number, number | null]) => {
        submitted += changelist.length;
        return realKevent(kq, changelist, ...rest);
      },
    });
    const pairs = [];
    for (let i = 0; i < 20; i++) pairs.push(await bench.connect());
    bench.proc.meter.reset();
    for (const { fd } of pairs) poller.add(fd, READS);
    for (const { fd } of pairs.slice(0, 10)) poller.modify(fd, READS_AND_WRITES);
    const ready = await bench.waitNow(poller);
    const kevent = bench.proc.meter.get('kevent');
    expect(
      kevent.calls,
      `20 adds and 10 modifies then one wait() made ${kevent.calls} kevent() calls: collect the changes in a ` +
        'changelist and hand them over with the kevent() that waits (hint 1)',
    ).toBe(1);
    expect(submitted, '20 adds for reads and 10 modifies that switch writes on are 30 changes: one per filter whose interest changed (hint 2)').toBe(30);
    const writable = ready.filter((r) => r.writable).map((r) => r.fd).sort((a, b) => a - b);
    expect(writable, 'the 10 fds modified to watch writes are reported writable').toEqual(pairs.slice(0, 10).map((p) => p.fd));
    // Switching writes off again (EV_DELETE) rides with the next wait too.
    for (const { fd } of pairs.slice(0, 10)) poller.modify(fd, READS);
    pairs[0]!.client.send('x');
    const next = await bench.waitNow(poller);
    expect(bench.proc.meter.get('kevent').calls, '10 more modifies and a second wait() should add exactly one kevent() call').toBe(2);
    expect(submitted - 30, '10 modifies that switch writes off are 10 changes (EV_DELETE on the write filter), nothing for the read filter that did not change').toBe(10);
    expect(next, 'after the writes were switched off, only the fd with new bytes is reported').toEqual([
      { fd: pairs[0]!.fd, readable: true, writable: false },
    ]);
    poller.close();
  });
});
