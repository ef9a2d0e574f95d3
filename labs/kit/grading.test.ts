// The grader helpers must fail loudly and readably, or the graders built on them pass wrong code.
import { describe, expect, it } from 'vitest';
import { POLLIN, RLIMIT_NOFILE, type Process } from '#kernel/index.ts';
import { StageRun } from './grading.ts';
import { openListener, raiseFdLimit } from './listen.ts';
import type { ServerOptions } from './server-options.ts';

/** Listens, then sleeps in poll() until stopped, never accepting anyone. */
async function deafServer(proc: Process, { port, signal }: ServerOptions): Promise<void> {
  const fd = openListener(proc, port);
  try {
    while (!signal.aborted) await proc.poll([{ fd, events: 0, revents: 0 }], 1000);
  } finally {
    proc.close(fd);
  }
}

/** Polls its listener, is told a client is waiting, and polls again without accepting. */
async function walksPast(proc: Process, { port, signal }: ServerOptions): Promise<void> {
  const fd = openListener(proc, port);
  try {
    await proc.poll([{ fd, events: POLLIN, revents: 0 }], null);
    await proc.poll([{ fd, events: POLLIN, revents: 0 }], 0);
    while (!signal.aborted) await proc.poll([{ fd, events: 0, revents: 0 }], 1000);
  } finally {
    proc.close(fd);
  }
}

describe('StageRun', () => {
  it('reports a crash instead of waiting for the timeout', async () => {
    const stage = new StageRun(async () => {
      throw new Error('boom');
    });
    await expect(stage.connect(1)).rejects.toThrow(/crashed.*boom/);
  });

  it('reports a server that returns before it is told to stop', async () => {
    const stage = new StageRun(async () => {});
    await expect(stage.waitFor(() => false, 'something')).rejects.toThrow(/returned before something/);
  });

  it('times out in virtual time, naming what it waited for', async () => {
    const stage = new StageRun(deafServer);
    await expect(stage.connect(1)).rejects.toThrow(/timed out after 10000 virtual ms waiting for the server to answer PING/);
    await stage.stop();
    expect(stage.openFds()).toEqual([]);
  });

  it('catches a loop that never sleeps instead of freezing the test runner', async () => {
    const spinner = async (proc: Process, { signal }: ServerOptions) => {
      while (!signal.aborted) await proc.poll([], 0);
    };
    const stage = new StageRun(spinner);
    await expect(stage.idle(1000)).rejects.toThrow(/never went to sleep/);
    await stage.dispose();
    expect(stage.stopped).toBe(true);
  });

  it('notices a ready fd that a poll() loop went past', async () => {
    const stage = new StageRun(walksPast);
    stage.open();
    await stage.idle(3000);
    expect(stage.pollAudit.missed.length).toBeGreaterThan(0);
    expect(stage.pollAudit.missed[0]!.fd).toBe(3);
    expect(stage.pollAudit.lastLength).toBe(1);
    await stage.stop();
  });

  it('says so when the server ignores the stop signal', async () => {
    const stubborn = async (proc: Process) => {
      for (;;) await proc.poll([], 1000);
    };
    const stage = new StageRun(stubborn);
    await expect(stage.stop(3000)).rejects.toThrow(/did not resolve within 3000 virtual ms/);
  });
});

describe('listen helpers', () => {
  it('raises the soft fd limit to the hard one and opens a non-blocking listener', () => {
    const stage = new StageRun(async () => {});
    const proc = stage.kernel.spawn();
    expect(raiseFdLimit(proc)).toBe(proc.getrlimit(RLIMIT_NOFILE).hard);
    const fd = openListener(proc, 9000);
    expect(fd).toBe(3);
    expect(() => openListener(proc, 9000)).toThrow(/bind to port 9000 failed: EADDRINUSE/);
    expect(proc.openFds()).toEqual([0, 1, 2, 3]);
  });
});
