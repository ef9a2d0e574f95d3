// The price list of the emulated kernel's cost meter. The kernel charges its meter with these
// functions as it runs, and the docs' live visualisation imports the same functions to predict one
// wake-up — one model, two users, so the picture never disagrees with the graders.
//
// "fdsInspected" counts descriptors the kernel looks at during one call; "bytesCopied" counts bytes
// moved between user and kernel memory (fd_set bitmaps in and out, pollfd arrays, events returned).

export const FD_SETSIZE = 1024;

/** Sizes of the user-visible structures on x86_64 Linux (kevent: FreeBSD ≥ 12, amd64). */
export const SIZEOF = { pollfd: 8, epoll_event: 12, kevent: 64 } as const;

export interface CallCost {
  calls: number;
  fdsInspected: number;
  bytesCopied: number;
}

/** Bytes of one fd_set the kernel copies for nfds: Linux copies whole longs up to nfds. */
export function fdSetBytes(nfds: number): number {
  return Math.ceil(nfds / 64) * 8;
}

/** select(nfds, …): scans every bit below nfds; each non-null set is copied in and back out. */
export function selectCost(nfds: number, nonNullSets: number): CallCost {
  return { calls: 1, fdsInspected: nfds, bytesCopied: 2 * nonNullSets * fdSetBytes(nfds) };
}

/** poll(fds, n): looks at every entry; the array is copied in and the revents copied back. */
export function pollCost(nfds: number): CallCost {
  return { calls: 1, fdsInspected: nfds, bytesCopied: 2 * nfds * SIZEOF.pollfd };
}

/** epoll_wait: walks only the ready list (the entries it takes off it) and copies out what it returns. */
export function epollWaitCost(examined: number, returned: number): CallCost {
  return { calls: 1, fdsInspected: examined, bytesCopied: returned * SIZEOF.epoll_event };
}

/** epoll_ctl: one registration looked up or changed; one epoll_event copied in (none for DEL). */
export function epollCtlCost(copiesEvent: boolean): CallCost {
  return { calls: 1, fdsInspected: 1, bytesCopied: copiesEvent ? SIZEOF.epoll_event : 0 };
}

/** kevent: applies the changelist, then walks the active knotes it returns. */
export function keventCost(changes: number, examined: number, returned: number): CallCost {
  return {
    calls: 1,
    fdsInspected: changes + examined,
    bytesCopied: (changes + returned) * SIZEOF.kevent,
  };
}

export type Mechanism = 'select' | 'poll' | 'epoll' | 'kqueue';

/**
 * The counted work of one wake-up of a server loop with `total` client sockets of which `active`
 * are readable, as each mechanism does it when used the way the labs teach: select and poll pass
 * every descriptor each time (plus the listening socket; fds 0–2 are the standard streams, so the
 * highest fd is total + 3), epoll and kqueue have everything registered already and return the
 * active ones.
 */
export function wakeupCost(mechanism: Mechanism, total: number, active: number): CallCost {
  const watched = total + 1; // clients + the listening socket
  switch (mechanism) {
    case 'select':
      return selectCost(watched + 3, 1);
    case 'poll':
      return pollCost(watched);
    case 'epoll':
      return epollWaitCost(active, active);
    case 'kqueue':
      return keventCost(0, active, active);
  }
}
