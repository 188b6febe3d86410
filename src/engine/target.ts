import type { ClusterApi } from '../cluster/api.js';
import type { Logger } from '../log.js';
import type { Clock, Deadline } from '../time.js';

/** What every operation on a release works with: where it is, how to reach it, and until when. */
export interface ReleaseTarget {
  cluster: ClusterApi;
  log: Logger;
  signal?: AbortSignal;
  clock: Clock;
  app: string;
  namespace: string;
  /** The one deadline of the whole operation (lock wait, apply, rollout, teardown), from params.timeout. */
  deadline: Deadline;
  /** Who holds the release's lock while this runs (shown to a concurrent put). */
  holder: string;
}
