import type { ClusterApi } from '../cluster/api.js';
import type { ClusterAuth } from '../cluster/auth.js';
import type { Logger } from '../log.js';
import type { BuildEnv } from '../output/build-env.js';
import { product } from '../kube/labels.js';
import type { Clock } from '../time.js';

/** What a command needs from the outside world; the entrypoints wire the real ones, tests their own. */
export interface CommandDeps {
  log: Logger;
  env: BuildEnv;
  signal?: AbortSignal;
  /** The one clock: certificate expiry, deadlines and every wait read it (tests pass a fake). */
  clock?: Clock;
  /** This process, to tell concurrent puts apart in lock messages. */
  processId?: number;
  connect: (auth: ClusterAuth, options: { log: Logger; signal?: AbortSignal; userAgent?: string }) => ClusterApi;
}

export const userAgent = product;

export function connectWith(deps: CommandDeps, auth: ClusterAuth): ClusterApi {
  if (auth.skipTlsVerify) deps.log.warn("source.insecure_skip_tls_verify is true: the API server's certificate is not verified");
  return deps.connect(auth, { log: deps.log, signal: deps.signal, userAgent });
}
