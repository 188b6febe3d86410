// The check's code for the load runs of bench/scale.ts, today's and before issue 28, in the bench process. Bundled by
// bench/scale.ts with esbuild (src/ uses TypeScript that Node's type stripping does not run) and required from there.
import { connectCluster } from '../../src/cluster/client.js';
import { check } from '../../src/commands/check.js';
import { memoryLogger } from '../../src/log.js';
import { parseCheckRequest } from '../../src/request/parse.js';
import { fullList } from './full-list.js';

export interface ScaleChecks {
  /** check as it is: the records' metadata. */
  today(): Promise<unknown>;
  /** check before issue 28: the records from a full list. */
  before(): Promise<unknown>;
}

/** Both checks of one request; each call connects afresh (its own transport, as a new process has). */
export function scaleChecks(request: { source: Record<string, unknown> }): ScaleChecks {
  const deps = { log: memoryLogger(), env: {}, connect: connectCluster };
  return {
    // Parsed on every call, as each check process parses its stdin.
    today: () => check(parseCheckRequest(request), deps),
    before: () =>
      check(parseCheckRequest(request), {
        ...deps,
        connect: (auth, options) => fullList(connectCluster(auth, options)),
      }),
  };
}
