// A fast check of `npm run bench:server`'s tools (no full bench): CPU and memory read from /proc,
// the strace summary and .cpuprofile readers, latency stamps cut at any byte, the histogram merge,
// the table's ratios, and the baseline server answering a room fan-out, a stored DM and a PING.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuBetween, cpuByPid, cpuSeconds, parseStat, parseVmRss, processTree, rssBytes } from '../bench/server/proc.ts';
import { parseStraceSummary } from '../bench/server/strace.ts';
import { summarize, type CpuProfile } from '../bench/server/cpuprofile.ts';
import { tableRows, targets, type SystemResult } from '../bench/server/report.ts';
import { dealRooms } from '../bench/server/shapes.ts';
import { StampScanner, stampedText } from '../../server/load/stamp.ts';
import { Histogram } from '../../server/load/histogram.ts';
import { mergeWire, toWire } from '../../server/load/histogram-wire.ts';
import { startBaseline, type BaselineServer } from '../../server/baseline/server.ts';
import { WizzClient } from '../../server/client/wizz-client.ts';
import { Req, Srv } from '../../server/protocol/codes.ts';

describe('CPU and memory from /proc', () => {
  it('parses a stat line whose command holds spaces and parentheses', () => {
    // pid (comm) state ppid … utime(14) stime(15) …
    const line = '4242 (node (my) srv) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 11 0 5000';
    expect(parseStat(line)).toEqual({ pid: 4242, ppid: 17, cpuTicks: 325 });
  });

  it('reads VmRSS in bytes', () => {
    expect(parseVmRss('Name:\tnode\nVmRSS:\t  51200 kB\nVmSwap:\t0 kB\n')).toBe(51_200 * 1024);
  });

  it('counts the CPU a busy child spends, and finds it in the process tree', async () => {
    const child = spawn(process.execPath, ['-e', 'const end = Date.now() + 600; while (Date.now() < end); setTimeout(() => {}, 5000)'], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 100));
      expect(processTree(process.pid)).toContain(child.pid);
      const before = cpuByPid([child.pid!]);
      await new Promise((r) => setTimeout(r, 900));
      const spent = cpuBetween(before, cpuByPid([child.pid!]));
      // It spun for ~0.5 s of the window; on a loaded machine it may get less of a core.
      expect(spent).toBeGreaterThan(0.05);
      expect(spent).toBeLessThan(1.5);
      expect(cpuSeconds([child.pid!])).toBeGreaterThanOrEqual(spent);
      expect(rssBytes([child.pid!])).toBeGreaterThan(1 << 20);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('readers', () => {
  it('reads calls per syscall from strace -c, with and without an errors column', () => {
    const text = [
      '% time     seconds  usecs/call     calls    errors syscall',
      '------ ----------- ----------- --------- --------- ----------------',
      ' 90.00    0.009000          10       900           writev',
      ' 10.00    0.001000          10       100        12 write',
      '------ ----------- ----------- --------- --------- ----------------',
      '100.00    0.010000          10      1000        12 total',
    ].join('\n');
    expect(parseStraceSummary(text)).toEqual({ writev: 900, write: 100 });
  });

  it('sums self time per function, finds the GC share and keeps to a window', () => {
    const profile: CpuProfile = {
      nodes: [
        { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 } },
        { id: 2, callFrame: { functionName: 'fanOut', url: 'file:///repo/server/reactor/reactor.ts', lineNumber: 9 } },
        { id: 3, callFrame: { functionName: '(garbage collector)', url: '', lineNumber: -1 } },
        { id: 4, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
      ],
      startTime: 1_000,
      endTime: 1_600,
      samples: [2, 2, 3, 4, 2, 2],
      timeDeltas: [100, 100, 100, 100, 100, 100],
    };
    const s = summarize([profile], '/repo');
    expect(s.top[0]!.name).toBe('fanOut (server/reactor/reactor.ts:10)');
    expect(s.gcShare).toBeCloseTo(1 / 5, 5); // idle is not working time
    expect(s.top.some((t) => t.name === '(idle)')).toBe(false);
    const windowed = summarize([profile], '/repo', 15, [1_250, 1_450]); // samples at 1,300 and 1,400
    expect(windowed.gcShare).toBe(1);
  });

  it('finds every latency stamp whatever the chunk boundaries, and only stamps', () => {
    const text = stampedText(64);
    expect(text).toHaveLength(64);
    const frames = Buffer.from(`{"room":"#a","from":"u_1","text":"${text}"}12345{"text":"${stampedText(20)}"}`);
    for (const cut of [1, 3, 7, frames.length]) {
      const seen: number[] = [];
      const scan = new StampScanner((ms) => seen.push(ms));
      for (let i = 0; i < frames.length; i += cut) scan.push(frames.subarray(i, i + cut));
      expect(seen).toHaveLength(2);
      for (const ms of seen) expect(ms).toBeGreaterThanOrEqual(0);
    }
  });

  it('merges histograms from several load processes', () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 0; i < 99; i++) a.record(1);
    b.record(100);
    const all = mergeWire([toWire(a), toWire(b)]);
    expect(all.count).toBe(100);
    expect(all.quantile(0.5)).toBeCloseTo(1, 1);
    expect(all.max).toBe(100);
  });
});

describe('the table', () => {
  const fanout = (deliveredPerS: number, cpuS: number) => ({ deliveredPerS, cpuS, perCpuS: (deliveredPerS * 8) / cpuS, p50: 5, p99: 20, peakRssMiB: 100, errors: 0, writesPerDelivery: null });
  const results: SystemResult[] = [
    { name: 'ref 1', kind: 'reference', reactors: 1, fanout: fanout(800_000, 8), notes: [] },
    { name: 'ref 2', kind: 'reference', reactors: 2, fanout: fanout(900_000, 12), notes: [] },
    { name: 'redis', kind: 'redis', fanout: fanout(1_000_000, 5), notes: [] },
  ];

  it('gives ratios to the one-reactor reference and a dash for what was not measured', () => {
    const rows = tableRows(results);
    expect(rows[0]![2]).toBe(1);
    expect(rows[1]![2]).toBe(1.13);
    expect(rows[2]![5]).toBe(2); // per CPU-second: 1.6 M vs 0.8 M
    expect(rows[2]![9]).toBe('—'); // no strace
    expect(rows[2]![10]).toBe('—'); // no DMs on redis
  });

  it('says which targets are met and by how much one is missed', () => {
    const list = targets(results, 5_000);
    const perCpu = list.find((t) => t.target.includes('≥ 1.0× redis') && t.target.includes('ref 1'))!;
    expect(perCpu.met).toBe(false);
    expect(perCpu.gap).toBe('50 % short');
    const scaling = list.find((t) => t.target.includes('0.95×'))!;
    expect(scaling.met).toBe(false); // 600 K vs 800 K per CPU-second
  });

  it('deals rooms to load processes', () => {
    expect(dealRooms(4, 2)).toEqual([[0, 2], [1, 3]]);
    expect(dealRooms(1, 2)).toEqual([[0]]);
  });
});

describe('the baseline server', () => {
  let server: BaselineServer;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wizz-baseline-'));
  beforeAll(async () => {
    server = await startBaseline({ port: 0, db: path.join(dir, 'b.db') });
  });
  afterAll(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const user = async (name: string) => {
    const c = await WizzClient.connect(server.port);
    await c.call(Req.REGISTER, { user: name, password: 'any-password' });
    await c.call(Req.LOGIN, { user: name, password: 'another-password' }); // any password is accepted
    return c;
  };

  it('fans a SAY out to every other member, stores and delivers a SEND, answers PING', async () => {
    const [a, b, c] = [await user('ann'), await user('bob'), await user('cid')];
    for (const x of [a, b, c]) await x.call(Req.JOIN, { room: '#smoke' });
    b.drainPushed();
    c.drainPushed();
    await a.call(Req.SAY, { room: '#smoke', text: 'hello all' });
    for (const x of [b, c]) expect((await x.nextPush((f) => f.type === Srv.ROOM)).body).toMatchObject({ room: '#smoke', from: 'ann', text: 'hello all' });
    expect(a.drainPushed().filter((f) => f.type === Srv.ROOM)).toHaveLength(0); // no copy to the sender
    const sent = await a.call(Req.SEND, { to: 'bob', text: 'just you' });
    expect(sent.msgId).toBeGreaterThan(0);
    expect((await b.nextPush((f) => f.type === Srv.MESSAGE)).body).toMatchObject({ from: 'ann', text: 'just you', msgId: sent.msgId });
    expect((await c.request(Req.PING, {})).type).toBe(Srv.OK);
    expect((await c.request(Req.SAY, { room: '#elsewhere', text: 'x' })).body.code).toBe('not_member');
    await Promise.all([a, b, c].map((x) => x.close()));
  });
});
