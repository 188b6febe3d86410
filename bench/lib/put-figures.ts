// Section 2's headline figures over the put reps: overhead of a first put and wall time of a no-op re-put, for ours
// (host, no compile cache), ours with the compile cache the image ships, and the kubectl way.
import { stats } from './proc.js';
import type { PutResults, Stats } from './results.js';

export interface PutFigures {
  /** wall − the cluster's time to Available. */
  overhead: { ours: Stats; oursCompileCache: Stats; kubectl: Stats };
  /** Wall time of the no-op re-put (nothing to roll out: no cluster time to subtract). */
  reput: { ours: Stats; oursCompileCache: Stats; kubectl: Stats };
}

export function putFigures(put: PutResults): PutFigures {
  const over = <T>(f: (rep: PutResults['reps'][number]) => T) => put.reps.map(f);
  return {
    overhead: {
      ours: stats(over((rep) => rep.ours.overheadMs)),
      oursCompileCache: stats(over((rep) => rep.oursCompileCache.overheadMs)),
      kubectl: stats(over((rep) => rep.theirs.overheadMs)),
    },
    reput: {
      ours: stats(over((rep) => rep.again.ms)),
      oursCompileCache: stats(over((rep) => rep.againCompileCache.ms)),
      kubectl: stats(over((rep) => rep.theirsAgain.ms)),
    },
  };
}
