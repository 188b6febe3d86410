// Entry point of the bench-only "check before issue 28" bundle (bench/scale.ts builds it and today's check with the
// same esbuild options): src/entrypoints/check.ts with the records from a full list (bench/lib/full-list.ts).
import '../../src/protocol/stdout-guard.js';
import { connectCluster } from '../../src/cluster/client.js';
import { check } from '../../src/commands/check.js';
import { runConcourseProtocol } from '../../src/protocol/run.js';
import { parseCheckRequest } from '../../src/request/parse.js';
import { fullList } from './full-list.js';

runConcourseProtocol('check', (context) =>
  check(parseCheckRequest(context.request), {
    ...context,
    connect: (auth, options) => fullList(connectCluster(auth, options)),
  }),
);
