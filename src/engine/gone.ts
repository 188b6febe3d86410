// Waiting for deleted objects to go: a Job replaced by a put, a release's objects, claims and namespace in a teardown.
// Deletion is asynchronous (finalizers, foreground deletion of dependents), so the caller looks again until nothing
// is left, within the operation's deadline.
import type { Logger } from '../log.js';
import { objectRef, type KubeObject } from '../kube/object.js';
import { pollUntil, type Clock, type Deadline } from '../time.js';

export interface GoneWait {
  deadline: Deadline;
  clock: Clock;
  signal?: AbortSignal;
  /** The first pause between two looks. */
  pollMs: number;
  /** Pauses double up to this one (most objects go within a second: look again soon at first, then less often). */
  maxPollMs: number;
  /** Where to say what is left, one line each time that changes; nothing is said without it. */
  progress?: Logger;
}

/**
 * Looks with `remaining` until it finds nothing. `waitingFor` words the timeout ("waiting for …") from what was
 * still there at the last look.
 */
export async function waitUntilGone(
  wait: GoneWait,
  remaining: () => Promise<KubeObject[]>,
  waitingFor: (left: KubeObject[]) => string,
): Promise<void> {
  let left: KubeObject[] = [];
  let lastLine = '';
  await pollUntil(
    async () => {
      left = await remaining();
      if (left.length === 0) return true;
      const line =
        `waiting for ${left.length} object${left.length > 1 ? 's' : ''} to be deleted: ` +
        `${left.slice(0, 6).map(objectRef).join(', ')}${left.length > 6 ? ', …' : ''}`;
      if (line !== lastLine) wait.progress?.info(line);
      lastLine = line;
      return undefined;
    },
    {
      deadline: wait.deadline,
      clock: wait.clock,
      signal: wait.signal,
      intervalMs: wait.pollMs,
      maxIntervalMs: wait.maxPollMs,
      waitingFor: () => waitingFor(left),
    },
  );
}
