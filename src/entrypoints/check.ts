import '../protocol/stdout-guard.js';
import { connectCluster } from '../cluster/client.js';
import { check } from '../commands/check.js';
import { runConcourseProtocol } from '../protocol/run.js';
import { parseCheckRequest } from '../request/parse.js';

runConcourseProtocol('check', (context) =>
  check(parseCheckRequest(context.request), { ...context, connect: connectCluster }),
);
