import '../protocol/stdout-guard.js';
import { connectCluster } from '../cluster/client.js';
import { out } from '../commands/out.js';
import { runConcourseProtocol } from '../protocol/run.js';

// out's request becomes its plan in the command's first step (request/plan.ts's planPut).
runConcourseProtocol('out', (context) => out(context.request, context.dir!, { ...context, connect: connectCluster }));
