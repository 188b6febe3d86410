import '../protocol/stdout-guard.js';
import { connectCluster } from '../cluster/client.js';
import { out } from '../commands/out.js';
import { runConcourseProtocol } from '../protocol/run.js';
import { planPut } from '../request/plan.js';

// The request becomes the put's plan (request/plan.ts) before the command runs: commands never parse.
runConcourseProtocol('out', (context) =>
  out(planPut(context.request, context.env), context.dir!, { ...context, connect: connectCluster }),
);
