// Numbers and names exactly as Linux (x86_64) and, for kqueue, FreeBSD define them, so a learner who
// moves to C later finds the same constants in <errno.h>, <poll.h>, <sys/epoll.h> and <sys/event.h>.

export const EPERM = 1;
export const ENOENT = 2;
export const ESRCH = 3;
export const EINTR = 4;
export const EBADF = 9;
export const EAGAIN = 11;
export const EWOULDBLOCK = EAGAIN;
export const ENOMEM = 12;
export const EFAULT = 14;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const EMFILE = 24;
export const EPIPE = 32;
export const ELOOP = 40;
export const ENOTSOCK = 88;
export const EOPNOTSUPP = 95;
export const EADDRINUSE = 98;
export const ECONNRESET = 104;
export const EISCONN = 106;
export const ETIMEDOUT = 110;
export const ENOTCONN = 107;
export const ECONNREFUSED = 111;
export const EALREADY = 114;
export const EINPROGRESS = 115;

const ERRNO: Record<number, [string, string]> = {
  [EPERM]: ['EPERM', 'Operation not permitted'],
  [ENOENT]: ['ENOENT', 'No such file or directory'],
  [ESRCH]: ['ESRCH', 'No such process'],
  [EINTR]: ['EINTR', 'Interrupted system call'],
  [EBADF]: ['EBADF', 'Bad file descriptor'],
  [EAGAIN]: ['EAGAIN', 'Resource temporarily unavailable'],
  [ENOMEM]: ['ENOMEM', 'Cannot allocate memory'],
  [EFAULT]: ['EFAULT', 'Bad address'],
  [EEXIST]: ['EEXIST', 'File exists'],
  [ENODEV]: ['ENODEV', 'No such device'],
  [EINVAL]: ['EINVAL', 'Invalid argument'],
  [EMFILE]: ['EMFILE', 'Too many open files'],
  [EPIPE]: ['EPIPE', 'Broken pipe'],
  [ELOOP]: ['ELOOP', 'Too many levels of symbolic links'],
  [ENOTSOCK]: ['ENOTSOCK', 'Socket operation on non-socket'],
  [EOPNOTSUPP]: ['EOPNOTSUPP', 'Operation not supported'],
  [EADDRINUSE]: ['EADDRINUSE', 'Address already in use'],
  [ECONNRESET]: ['ECONNRESET', 'Connection reset by peer'],
  [EISCONN]: ['EISCONN', 'Transport endpoint is already connected'],
  [ETIMEDOUT]: ['ETIMEDOUT', 'Connection timed out'],
  [ENOTCONN]: ['ENOTCONN', 'Transport endpoint is not connected'],
  [ECONNREFUSED]: ['ECONNREFUSED', 'Connection refused'],
  [EALREADY]: ['EALREADY', 'Operation already in progress'],
  [EINPROGRESS]: ['EINPROGRESS', 'Operation now in progress'],
};

/** 'EAGAIN' for 11 (or -11: syscall results can be passed straight in). */
export function errnoName(errno: number): string {
  return ERRNO[Math.abs(errno)]?.[0] ?? `E?${Math.abs(errno)}`;
}

/** The message glibc's strerror() prints, e.g. 'Resource temporarily unavailable'. */
export function strerror(errno: number): string {
  return ERRNO[Math.abs(errno)]?.[1] ?? `Unknown error ${Math.abs(errno)}`;
}

// --- file status flags, socket options -------------------------------------------------------------
export const O_RDWR = 0o2;
export const O_NONBLOCK = 0o4000;
export const SOCK_NONBLOCK = O_NONBLOCK;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;
export const SOL_SOCKET = 1;
export const SO_ERROR = 4;
export const SO_LINGER = 13;
export const RLIMIT_NOFILE = 7;
export const SOMAXCONN = 4096;

// --- poll (also the bit values epoll uses) -----------------------------------------------------------
export const POLLIN = 0x001;
export const POLLPRI = 0x002;
export const POLLOUT = 0x004;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;
export const POLLNVAL = 0x020;
export const POLLRDNORM = 0x040;
export const POLLWRNORM = 0x100;
export const POLLRDHUP = 0x2000;

// --- epoll -------------------------------------------------------------------------------------------
export const EPOLLIN = POLLIN;
export const EPOLLPRI = POLLPRI;
export const EPOLLOUT = POLLOUT;
export const EPOLLERR = POLLERR;
export const EPOLLHUP = POLLHUP;
export const EPOLLRDNORM = POLLRDNORM;
export const EPOLLWRNORM = POLLWRNORM;
export const EPOLLRDHUP = POLLRDHUP;
export const EPOLLEXCLUSIVE = 1 << 28;
export const EPOLLWAKEUP = 1 << 29;
export const EPOLLONESHOT = 1 << 30;
/** Unsigned, as in C: 0x80000000. Test it with `(events & EPOLLET) !== 0`. */
export const EPOLLET = 0x80000000 >>> 0;
export const EPOLL_CLOEXEC = 0o2000000;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;

// --- kqueue (FreeBSD <sys/event.h>) ------------------------------------------------------------------
export const EVFILT_READ = -1;
export const EVFILT_WRITE = -2;
export const EV_ADD = 0x0001;
export const EV_DELETE = 0x0002;
export const EV_ENABLE = 0x0004;
export const EV_DISABLE = 0x0008;
export const EV_ONESHOT = 0x0010;
export const EV_CLEAR = 0x0020;
export const EV_RECEIPT = 0x0040;
export const EV_DISPATCH = 0x0080;
export const EV_EOF = 0x8000;
export const EV_ERROR = 0x4000;

// --- select ------------------------------------------------------------------------------------------
export { FD_SETSIZE } from './cost-model.ts';
