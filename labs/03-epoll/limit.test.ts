// Grader for stage 03, part 5 — the fd limit, counted by the meter. At RLIMIT_NOFILE accept4() fails
// with EMFILE and the client stays in the backlog, so the level-triggered listener stays ready: a
// server that just returns spins. Each newcomer at the limit must be told ERROR server_full (the
// spare fd) at a bounded cost, the loop must sleep while nothing happens, and once a client leaves
// the next newcomer is served.
import { describe } from 'vitest';
import { fdLimitGraders } from '#kit/fd-limit.ts';
import { runServer } from '#stage/03-epoll/server.ts';

describe('03-epoll: the fd limit', () => fdLimitGraders({ runServer, waitCall: 'epoll_wait', where: 'README step 5, hint 3' }));
