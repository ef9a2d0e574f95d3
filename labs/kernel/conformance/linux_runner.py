#!/usr/bin/env python3
"""Runs wizz kernel conformance scenarios against the real kernel.

Reads a JSON array of scenarios on stdin, plays each one with real sockets on 127.0.0.1 through
Python's select module (select/poll/epoll), prints a JSON object {name: [step results]} on stdout.
The emulator runner (emulator-runner.ts) plays the same steps; the results must be identical.
"""
import errno, json, os, resource, select, socket, struct, sys, threading, time

SETTLE = 0.005  # let loopback packets (RST, FIN, ACKs) be processed before the next step

POLL_BITS = {'IN': select.POLLIN, 'OUT': select.POLLOUT, 'ERR': select.POLLERR, 'HUP': select.POLLHUP,
             'NVAL': select.POLLNVAL, 'RDHUP': select.POLLRDHUP}
EPOLL_BITS = {'IN': select.EPOLLIN, 'OUT': select.EPOLLOUT, 'ERR': select.EPOLLERR, 'HUP': select.EPOLLHUP,
              'RDHUP': select.EPOLLRDHUP, 'ET': select.EPOLLET, 'ONESHOT': select.EPOLLONESHOT,
              'EXCLUSIVE': select.EPOLLEXCLUSIVE}
ASYNC_WAIT = 3.0  # seconds an epoll_wait_async thread sleeps at most; scenarios wake them long before
SHUT = {'RD': socket.SHUT_RD, 'WR': socket.SHUT_WR, 'RDWR': socket.SHUT_RDWR}
REPORTED = ['IN', 'OUT', 'ERR', 'HUP', 'NVAL', 'RDHUP']


def names(mask):
    return [n for n in REPORTED if mask & POLL_BITS[n]]


def err_name(e):
    return errno.errorcode.get(e.errno, str(e.errno))


class Player:
    def __init__(self):
        self.socks = {}   # name -> socket object (or epoll object)
        self.fdnum = {}   # name -> fd number it had (kept after close, for POLLNVAL / reuse checks)
        self.byfd = {}    # fd number -> latest name
        self.ports = {}
        self.waits = {}   # epoll_wait_async name -> 'asleep' | result
        self.tids = {}    # epoll_wait_async name -> the thread's id, to see it asleep in /proc
        self.threads = []

    def keep(self, name, obj):
        self.socks[name] = obj
        fd = obj.fileno()
        self.fdnum[name] = fd
        self.byfd[fd] = name

    def step(self, s):
        op = s['op']
        try:
            return getattr(self, 'op_' + op)(s)
        except OSError as e:
            return err_name(e)

    def op_socket(self, s):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        self.keep(s['as'], sock)
        return 'ok'

    def op_listen(self, s):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(('127.0.0.1', 0))
        sock.listen(s.get('backlog', 128))
        sock.setblocking(False)
        self.ports[s['as']] = sock.getsockname()[1]
        self.keep(s['as'], sock)
        return 'ok'

    def free_port(self):
        probe = socket.socket()
        probe.bind(('127.0.0.1', 0))
        port = probe.getsockname()[1]
        probe.close()
        return port

    def op_connect(self, s):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        port = self.ports[s['to']] if s['to'] != 'nowhere' else self.free_port()
        if s.get('blocking'):
            self.keep(s['as'], sock)
            rc = sock.connect_ex(('127.0.0.1', port))
            sock.setblocking(False)
        else:
            sock.setblocking(False)
            self.keep(s['as'], sock)
            rc = sock.connect_ex(('127.0.0.1', port))
        return errno.errorcode.get(rc, str(rc)) if rc else 0

    def op_accept(self, s):
        conn, _ = self.socks[s['from']].accept()
        conn.setblocking(False)
        self.keep(s['as'], conn)
        return 'ok'

    def op_write(self, s):
        return self.socks[s['fd']].send(b'x' * s['n'])

    def op_fill(self, s):
        sock = self.socks[s['fd']]
        for _ in range(100000):
            try:
                sock.send(b'x' * 65536)
            except BlockingIOError:
                return 'EAGAIN'
        return 'never filled'

    def op_read(self, s):
        data = self.socks[s['fd']].recv(s['max'])
        return len(data)

    def op_drain(self, s):
        sock = self.socks[s['fd']]
        quiet = 0
        while quiet < 3:
            try:
                data = sock.recv(1 << 20)
                if not data:
                    return 0
                quiet = 0
            except BlockingIOError:
                quiet += 1
                time.sleep(SETTLE)
            except OSError as e:
                return err_name(e)
        return 'EAGAIN'

    def op_shutdown(self, s):
        self.socks[s['fd']].shutdown(SHUT[s['how']])
        return 0

    def op_close(self, s):
        self.socks[s['fd']].close()
        return 0

    def op_reset(self, s):
        sock = self.socks[s['fd']]
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))
        sock.close()
        return 0

    def op_dup(self, s):
        fd = os.dup(self.fdnum[s['fd']])
        sock = socket.socket(fileno=fd)
        self.keep(s['as'], sock)
        return 'ok'

    def op_fdeq(self, s):
        return 'equal' if self.fdnum[s['a']] == self.fdnum[s['b']] else 'different'

    def op_so_error(self, s):
        e = self.socks[s['fd']].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        return errno.errorcode.get(e, str(e)) if e else 0

    def op_poll(self, s):
        p = select.poll()
        mask = 0
        for n in s['events']:
            mask |= POLL_BITS[n]
        for name in s['fds']:
            p.register(self.fdnum[name], mask)
        got = dict(p.poll(0))
        return {name: names(got.get(self.fdnum[name], 0)) for name in s['fds']}

    def op_select(self, s):
        r = [self.fdnum[n] for n in s.get('read', [])]
        w = [self.fdnum[n] for n in s.get('write', [])]
        rr, ww, _ = select.select(r, w, [], 0)
        rr, ww = sorted(rr), sorted(ww)
        return {'n': len(rr) + len(ww), 'read': [self.byfd[f] for f in rr], 'write': [self.byfd[f] for f in ww]}

    def op_select_high(self, s):
        # Raise the soft limit and put a socket at fd 1030: select() cannot take it.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 2048), hard))
        high = os.dup2(self.fdnum[s['fd']], 1030)
        try:
            select.select([high], [], [], 0)
            return 'accepted'
        except ValueError:
            return 'refused: fd out of range'
        finally:
            os.close(high)

    def op_epoll_create(self, s):
        self.keep(s['as'], select.epoll())
        return 'ok'

    def op_epoll_ctl(self, s):
        ep = self.socks[s['ep']]
        mask = 0
        for n in s.get('events', []):
            mask |= EPOLL_BITS[n]
        fd = self.fdnum[s['fd']]
        if s['op2'] == 'ADD':
            if s['ep'] == s['fd']:
                ep.register(ep.fileno(), mask)
            else:
                ep.register(fd, mask)
        elif s['op2'] == 'MOD':
            ep.modify(fd, mask)
        else:
            ep.unregister(fd)
        return 0

    def op_epoll_wait_async(self, s):
        # A thread asleep in epoll_wait while the scenario goes on (the GIL is released in the call).
        ep, name = self.socks[s['ep']], s['as']
        self.waits[name] = 'asleep'
        self.tids[name] = None

        def wait():
            self.tids[name] = threading.get_native_id()
            try:
                evs = ep.poll(ASYNC_WAIT, s['max'])
                self.waits[name] = [[self.byfd[fd], names(m)] for fd, m in evs]
            except OSError as e:
                self.waits[name] = err_name(e)
        t = threading.Thread(target=wait, daemon=True)
        t.start()
        self.threads.append(t)
        self.settle_waits([name])
        return 'started'

    def asleep_in_epoll(self, name):
        tid = self.tids.get(name)
        try:
            with open(f'/proc/self/task/{tid}/wchan') as f:
                return 'epoll' in f.read()
        except (OSError, TypeError):
            return False

    def settle_waits(self, waits):
        """Waits until each thread has either returned (its result stored) or sleeps in epoll_wait."""
        deadline = time.monotonic() + ASYNC_WAIT / 2
        time.sleep(SETTLE)
        while time.monotonic() < deadline:
            if all(self.waits.get(w) != 'asleep' or self.asleep_in_epoll(w) for w in waits):
                return
            time.sleep(SETTLE)

    def op_woken(self, s):
        self.settle_waits(s['waits'])
        return {w: self.waits.get(w, 'never started') for w in s['waits']}

    def op_epoll_wait(self, s):
        evs = self.socks[s['ep']].poll(0, s['max'])
        return [[self.byfd[fd], names(m)] for fd, m in evs]


def main():
    scenarios = json.load(sys.stdin)
    out = {}
    for sc in scenarios:
        if sc.get('linux') is False:
            continue
        pl = Player()
        results = []
        for st in sc['steps']:
            time.sleep(SETTLE)
            results.append(pl.step(st))
        for t in pl.threads:
            t.join(ASYNC_WAIT + 1)
        for obj in pl.socks.values():
            try:
                obj.close()
            except OSError:
                pass
        out[sc['name']] = results
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
