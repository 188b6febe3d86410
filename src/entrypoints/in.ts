import '../protocol/stdout-guard.js';
import { connectCluster } from '../cluster/client.js';
import { get } from '../commands/in.js';
import { runScript } from '../protocol/run.js';

runScript('in', ({ request, dir, env, log, signal }) => get(request, dir!, { env, log, signal, connect: connectCluster }));
