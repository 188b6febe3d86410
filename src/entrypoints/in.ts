import '../protocol/stdout-guard.js';
import { connectCluster } from '../cluster/client.js';
import { get } from '../commands/in.js';
import { runScript } from '../protocol/run.js';

runScript('in', (context) => get(context.request, context.dir!, { ...context, connect: connectCluster }));
