// Grader for stage 05 — the fd limit, as in stage 03: each newcomer at RLIMIT_NOFILE is told
// ERROR server_full through the spare fd at a bounded cost, the loop sleeps while nothing happens,
// and once a client leaves the next newcomer is served. Counted by the meter.
import { describe } from 'vitest';
import { fdLimitGraders } from '#kit/fd-limit.ts';
import { runServer } from '#stage/05-pool/server.ts';

describe('05-pool: the fd limit', () => fdLimitGraders({ runServer, waitCall: 'epoll_wait', where: 'stage 03, README step 5' }));
