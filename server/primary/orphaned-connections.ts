// Node's cluster hands each accepted connection to a reactor over IPC (round-robin in the primary)
// and keeps its own copy of the socket until that reactor answers that it took it. A reactor that
// dies in between never answers: the primary then holds the connection open forever, unread, and the
// client waits in silence — neither served nor closed (found by the chaos runner with a reactor
// kill -9; nodejs/node#21746 describes the same loss). Node offers no hook for it, so when a reactor
// dies the primary notes the raw TCP handles it holds (only connections in hand-over are raw TCP
// handles here: listeners are Servers, Redis and PostgreSQL connections are Sockets) and closes those
// still held after a hand-over's time: the client sees the connection close and reconnects.
const HANDOVER_MS = 2_000;

interface RawHandle {
  close(): void;
}

export function closeOrphanedConnections(delayMs = HANDOVER_MS): void {
  const held = rawTcpHandles();
  if (held.length === 0) return;
  const timer = setTimeout(() => {
    const still = new Set(rawTcpHandles());
    for (const handle of held) if (still.has(handle)) handle.close();
  }, delayMs);
  timer.unref();
}

function rawTcpHandles(): RawHandle[] {
  const active = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return active.filter((h): h is RawHandle => (h as { constructor?: { name?: string } })?.constructor?.name === 'TCP' && typeof (h as RawHandle).close === 'function');
}
