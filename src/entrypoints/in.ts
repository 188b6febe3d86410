import '../protocol/stdout-guard.js';
import { connectCluster } from '../cluster/client.js';
import { get } from '../commands/in.js';
import { runConcourseProtocol } from '../protocol/run.js';
import { parseInRequest } from '../request/parse.js';

runConcourseProtocol('in', (context) =>
  get(parseInRequest(context.request), context.dir!, { ...context, connect: connectCluster }),
);
