// Grader for stage 04, client stories on every backend: fast-check generates what a few clients do
// (connect; send whole, split and coalesced frames; rename; leave with FIN, half-close or reset;
// never read, read slowly, drip; burst together; past fd 1023 on select) and a model of the lab chat
// says what each must receive. On a failure you read the shortest story that breaks the server on
// that backend, and the seed that replays it.
import { describe, it } from 'vitest';
import { gradeScenarios, scenarioRuns, scenarioTimeout } from '#kit/scenario/grade.ts';
import { BACKENDS } from '#stage/04-kqueue/poller.ts';
import { createServer } from '#stage/04-kqueue/server.ts';

// The stage's stories are shared out among the four backends (1,000 in CI: 250 each), at least 50 each.
const runs = Math.max(50, Math.ceil(scenarioRuns() / BACKENDS.length));

describe.each(BACKENDS)('04-kqueue: client stories on %s', (backend) => {
  it('serves every client story the way the lab chat says', () =>
    gradeScenarios({ stage: '04-kqueue', runServer: createServer(backend), variant: `the ${backend} backend`, wall: backend === 'select', limit: true, runs }),
    scenarioTimeout(runs));
});
