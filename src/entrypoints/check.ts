import '../protocol/stdout-guard.js';
import { connectCluster } from '../cluster/client.js';
import { check } from '../commands/check.js';
import { runScript } from '../protocol/run.js';

runScript('check', (context) => check(context.request, { ...context, connect: connectCluster }));
