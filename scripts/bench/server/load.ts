// The load side of `npm run bench:server`: forks load processes (server/load/bench-worker.ts), gives
// each its part of the shape, waits until all are set up, and brackets the measured window with
// start/stop so the bench can read the server's CPU at the same two moments.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { ShapeResult, Task } from '../../../server/load/fanout.ts';
import { mergeWire, type HistogramWire } from '../../../server/load/histogram-wire.ts';
import { root, track } from './systems.ts';

/** What every load process measured, added up (the same fields as one process's ShapeResult). */
export type LoadTotals = ShapeResult;

interface WorkerReply {
  ready?: boolean;
  error?: string;
  result?: Omit<LoadTotals, 'latency'> & { latency: HistogramWire };
}

export class LoadGroup {
  private readonly workers: ChildProcess[] = [];

  /** Starts one load process per task and waits (at most setupS) until every one is set up. */
  static async start(tasks: Task[], setupS = 120): Promise<LoadGroup> {
    const g = new LoadGroup();
    try {
      await Promise.all(
        tasks.map(async (task) => {
          const w = track(fork(path.join(root, 'server/load/bench-worker.ts'), [], { cwd: root, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
          g.workers.push(w);
          w.send({ task });
          await g.reply(w, 'ready', setupS * 1000);
        }),
      );
    } catch (err) {
      await g.close();
      throw err;
    }
    return g;
  }

  private reply(w: ChildProcess, want: keyof WorkerReply, timeoutMs: number): Promise<WorkerReply> {
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        w.off('message', onMessage);
        w.off('exit', onExit);
      };
      const onMessage = (msg: WorkerReply) => {
        if (msg.error) {
          done();
          reject(new Error(`load process: ${msg.error}`));
        } else if (msg[want] !== undefined) {
          done();
          resolve(msg);
        }
      };
      const onExit = (code: number | null) => {
        done();
        reject(new Error(`a load process exited (${code}) while the bench waited for "${want}"`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`a load process did not answer "${want}" within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      w.on('message', onMessage);
      w.once('exit', onExit);
    });
  }

  /** The load processes' pids (to read their CPU: on a shared machine the load generator competes with the server). */
  pids(): number[] {
    return this.workers.flatMap((w) => (w.pid === undefined ? [] : [w.pid]));
  }

  /** Starts the traffic, uncounted. */
  start(): void {
    for (const w of this.workers) w.send({ cmd: 'start' });
  }

  /** Opens the measured window. */
  open(): void {
    for (const w of this.workers) w.send({ cmd: 'open' });
  }

  async stop(): Promise<LoadTotals> {
    const replies = await Promise.all(
      this.workers.map((w) => {
        const r = this.reply(w, 'result', 30_000);
        w.send({ cmd: 'stop' });
        return r;
      }),
    );
    const parts = replies.map((r) => r.result!);
    const errors: Record<string, number> = {};
    for (const p of parts) for (const [k, n] of Object.entries(p.errors)) errors[k] = (errors[k] ?? 0) + n;
    return {
      count: parts.reduce((s, p) => s + p.count, 0),
      delivered: parts.reduce((s, p) => s + p.delivered, 0),
      seconds: Math.max(...parts.map((p) => p.seconds)),
      latency: mergeWire(parts.map((p) => p.latency)),
      errors,
      open: parts.reduce((s, p) => s + p.open, 0),
      established: parts.reduce((s, p) => s + (p.established ?? 0), 0),
    };
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.exitCode !== null || w.signalCode !== null) return resolve();
            const timer = setTimeout(() => w.kill('SIGKILL'), 5_000);
            w.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            if (w.connected) w.send({ cmd: 'close' });
            else w.kill('SIGKILL');
          }),
      ),
    );
  }
}
