// Grader for stage 05, client stories: fast-check generates what a few clients do (connect; send
// whole, split and coalesced frames; rename; leave with FIN, half-close or reset; never read, read
// slowly, drip; burst together) and a model of the lab chat says what each must
// receive. On a failure you read the shortest story that breaks your server, and the seed that replays it.
import { it } from 'vitest';
import { gradeScenarios, scenarioTimeout } from '#kit/scenario/grade.ts';
import { runServer } from '#stage/05-pool/server.ts';

it('serves every client story the way the lab chat says', () => gradeScenarios({ stage: '05-pool', runServer, limit: true }), scenarioTimeout());
