// Setting up a listening server: ceremony every stage needs and none of them teaches.
import { RLIMIT_NOFILE, SOCK_NONBLOCK, errnoName, type Process } from '#kernel/index.ts';

/** Listen backlog: Linux's default somaxconn, enough for the graders' bursts of clients. */
export const LISTEN_BACKLOG = 4096;

/** A non-blocking listening socket on `port`. Throws with the errno name if a step fails. */
export function openListener(proc: Process, port: number, backlog = LISTEN_BACKLOG): number {
  const fd = check('socket', proc.socket(SOCK_NONBLOCK));
  try {
    check(`bind to port ${port}`, proc.bind(fd, port));
    check('listen', proc.listen(fd, backlog));
  } catch (err) {
    proc.close(fd);
    throw err;
  }
  return fd;
}

/**
 * Raises the soft limit on open fds to the hard limit, as servers do at startup (`ulimit -n`).
 * Returns the new soft limit. With it a select() server can be handed fds past FD_SETSIZE.
 */
export function raiseFdLimit(proc: Process): number {
  const { hard } = proc.getrlimit(RLIMIT_NOFILE);
  check('setrlimit(RLIMIT_NOFILE)', proc.setrlimit(RLIMIT_NOFILE, { soft: hard, hard }));
  return hard;
}

function check(what: string, result: number): number {
  if (result < 0) throw new Error(`${what} failed: ${errnoName(-result)}`);
  return result;
}
