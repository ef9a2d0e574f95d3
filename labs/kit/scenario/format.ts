// Says what went wrong in a few readable lines: the shrunk story, numbered, the step where the
// server went astray marked, what it did, and how to replay it. Never a dump of the raw story.
import type { Story } from './story.ts';
import type { StoryResult } from './run.ts';

export interface Report {
  stage: string;
  /** What the graded server is, e.g. "the epoll backend", for stages with several. */
  variant?: string;
  seed: number;
  runs: number;
  shrinks: number;
  story: Story;
  result: StoryResult;
}

/** The learner's failure message for the shortest story that breaks their server. */
export function formatFailure(r: Report): string {
  const { plan, failure } = r.result;
  const lines: string[] = [];
  const on = r.variant ? ` (${r.variant})` : '';
  lines.push(`A client story breaks your server${on}. The shortest one found (found at story ${r.runs}, shrunk in ${r.shrinks} steps):`);
  const where = r.story.buffers === 'tight' ? 'socket buffers of 512 bytes (partial writes everywhere)' : 'default socket buffers';
  const wall = r.story.nearWall !== null ? `; the process already holds fds up to ${1024 - r.story.nearWall - 1}` : '';
  const limit =
    r.story.fdLimit != null
      ? `; the server's fd limit (RLIMIT_NOFILE) leaves room for ${r.story.fdLimit} client${r.story.fdLimit > 1 ? 's' : ''}, the next one meets EMFILE`
      : '';
  lines.push(`   (${where}${wall}${limit})`);
  let n = 0;
  let marked = false;
  for (const [i, step] of plan.steps.entries()) {
    if (step.line === null) continue;
    n++;
    const here = failure !== null && failure.step === i;
    lines.push(`${here ? ' ✗' : '  '} ${String(n).padStart(2)}. ${step.line}`);
    if (here) {
      lines.push(`       → ${failure.problem}`);
      marked = true;
    }
    if (failure !== null && i >= failure.step) break;
  }
  if (failure && !marked) {
    lines.push(failure.step < 0 ? `   before any client: ${failure.problem}` : `   then, stopping the server: ${failure.problem}`);
  }
  const look = failure ? whereToLook(r.story, failure.step, failure.problem, r.result.plan.clients) : null;
  if (look) lines.push(`Where to look: ${look}`);
  lines.push(`Replay exactly this run: npm test -- ${r.stage.slice(0, 2)} --seed ${r.seed}`);
  return lines.join('\n');
}

/** The usual cause of a symptom, in a sentence (or null when the symptom says it all). */
function whereToLook(story: Story, step: number, problem: string, clients: ReadonlyArray<{ label: string; kind: string }> = []): string | null {
  const kind = story.steps[step]?.do;
  const slowReaders = story.steps.some((s) => s.do === 'connect' && s.kinds.includes('slow-reader'));
  if (story.fdLimit != null && kind === 'connect' && /never went to sleep|server_full/.test(problem)) {
    return 'at the fd limit accept4() fails with EMFILE and leaves the client in the backlog, so the listener stays ready: ' +
      'refuse the newcomer with your spare fd (close it, accept4, write ERROR server_full, close, reserve the spare again) — see "The fd limit" in the README.';
  }
  if (kind === 'spurious') {
    return 'a readiness report is a hint, not a promise: the read() or accept4() that follows may still say -EAGAIN (select(2), BUGS: data dropped after the wake-up, or taken by another reader). ' +
      'On -EAGAIN do nothing — no close, no error, no throw — and wait for the next report.';
  }
  if ((kind === 'leave' || kind === 'say-and-fin') && /never went to sleep/.test(problem)) {
    return 'a peer that has gone stays ready for ever: read it, and when read() returns 0 or an error it has left — close its fd and tell the room, or every wake-up reports it again at once and the loop spins (poll and epoll report a reset as several bits at once, POLLIN|POLLERR|POLLHUP: test them with &).';
  }
  if (/crashed|never went to sleep|runServer/.test(problem)) return null;
  // A client that never reads and is still held: nobody dropped it when its queue passed the bound.
  const held = [...problem.matchAll(/fd \d+ \((\w+), gone\)/g)].map((m) => clients.find((c) => c.label === m[1])?.kind);
  if (held.includes('never-reads')) {
    return 'a client that never reads must be dropped once its queue would pass the bound: when Connection.queue() returns false, drop it (a best-effort ERROR slow_consumer, close, and tell the room) — never let its queue grow.';
  }
  if (/PRESENCE \S+ leave/.test(problem) && /never received/.test(problem) && /still holds fd/.test(problem)) {
    return kind === 'say-and-fin'
      ? 'the server never saw this peer go: its FIN came with its last bytes, so the read() that returns 0 comes only after the one that returns them — and an edge-triggered socket is not reported again, so a server that reads once per event never makes it. Read until read() returns -EAGAIN or 0; on 0, close the fd and tell the room (room.leave).'
      : 'the server never saw this peer go: the read() that returns 0 (or fails) never happened, or was not taken as the end. Read until -EAGAIN (edge-triggered sockets are reported once); on 0 or an error, close the fd and tell the room (room.leave).';
  }
  if (/PRESENCE \S+ leave/.test(problem) && /never received/.test(problem)) {
    return 'whenever a connection goes — EOF, reset, an error, or dropped for not reading — close its fd *and* tell the room (room.leave), on every path.';
  }
  if (kind === 'say-and-fin' && /never received ROOM/.test(problem)) {
    return 'bytes that arrive together with the FIN are still requests: handle what read() returned before the read that says 0, then close.';
  }
  if (/still holds fd/.test(problem)) return 'a read() of 0 or an error means the peer is gone: close that fd (and remove it from whatever you watch).';
  if (kind === 'burst' && slowReaders && /never received/.test(problem)) {
    return 'a client whose output is queued must be flushed when its socket is writable — also in a wake-up where it sent something, and without waiting for a second notice (edge-triggered events come once).';
  }
  if (story.buffers === 'tight' && /never received/.test(problem)) {
    return 'with 512-byte socket buffers most writes are partial: what a write leaves in the queue must go out when the socket is writable again — watch for writability while the connection has bytes queued (conn.wantsWrite), and flush then; and serve every fd reported ready in a wake-up.';
  }
  if (kind === 'burst' && /never received/.test(problem)) {
    return 'serve every fd reported ready in a wake-up, and on edge-triggered sockets read until EAGAIN.';
  }
  return null;
}
