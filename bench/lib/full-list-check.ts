// Entry point of the bench-only "check before issue 28" bundle (bench/scale.ts builds it and today's check with the
// same esbuild options): src/entrypoints/check.ts with the records from a full list (bench/lib/full-list.ts).
import '../../src/protocol/stdout-guard.js';
import { connectCluster } from '../../src/cluster/client.js';
import { check } from '../../src/commands/check.js';
import { runScript } from '../../src/protocol/run.js';
import { fullList } from './full-list.js';

runScript('check', (context) =>
  check(context.request, { ...context, connect: (auth, options) => fullList(connectCluster(auth, options)) }),
);
