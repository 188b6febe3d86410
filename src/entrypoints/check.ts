import '../protocol/stdout-guard.js';
import { connectCluster } from '../cluster/client.js';
import { check } from '../commands/check.js';
import { runScript } from '../protocol/run.js';

runScript('check', ({ request, env, log, signal }) => check(request, { env, log, signal, connect: connectCluster }));
