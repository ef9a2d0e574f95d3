// The two exceptions the emulator throws. Everything else is reported the syscall way: a negative errno.

/**
 * A synchronous read/write/accept/connect on a *blocking* socket that would have to wait.
 * In C the thread would sleep; in JS that would freeze the whole event loop, so the emulator refuses
 * loudly instead. Use O_NONBLOCK (and a poller), or the async `proc.blocking.*` calls.
 */
export class WouldBlockError extends Error {
  constructor(readonly call: string, readonly fd: number) {
    super(
      `${call}(${fd}) would block: the socket is in blocking mode and this call would freeze your event loop. ` +
        `Set O_NONBLOCK (fcntl(fd, F_SETFL, O_NONBLOCK) or accept4(fd, SOCK_NONBLOCK)) or use proc.blocking.${call}().`,
    );
    this.name = 'WouldBlockError';
  }
}

/** What a fortified glibc (_FORTIFY_SOURCE) does when FD_SET/FD_CLR/FD_ISSET get an fd outside the fd_set. */
export class FortifyAbort extends Error {
  constructor(readonly fd: number) {
    super('*** buffer overflow detected ***: terminated');
    this.name = 'FortifyAbort';
  }
}
