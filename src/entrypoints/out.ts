import '../protocol/stdout-guard.js';
import { connectCluster } from '../cluster/client.js';
import { out } from '../commands/out.js';
import { runScript } from '../protocol/run.js';

runScript('out', (context) => out(context.request, context.dir!, { ...context, connect: connectCluster }));
