import type { ClusterApi } from '../cluster/api.js';
import type { ClusterAuth } from '../cluster/auth.js';
import type { Logger } from '../log.js';
import type { BuildEnv } from '../output/build-env.js';
import type { Clock } from '../rollout/wait.js';

/** What a command needs from the outside world; the entrypoints wire the real ones, tests their own. */
export interface CommandDeps {
  log: Logger;
  env: BuildEnv;
  signal?: AbortSignal;
  now?: () => Date;
  clock?: Clock;
  /** This process, to tell concurrent puts apart in lock messages. */
  processId?: number;
  connect: (auth: ClusterAuth, options: { log: Logger; signal?: AbortSignal; userAgent?: string }) => ClusterApi;
}

export const userAgent = 'kubernetes-deploy-resource';

export function connectWith(deps: CommandDeps, auth: ClusterAuth): ClusterApi {
  if (auth.skipTlsVerify) deps.log.warn("source.insecure_skip_tls_verify is true: the API server's certificate is not verified");
  return deps.connect(auth, { log: deps.log, signal: deps.signal, userAgent });
}
