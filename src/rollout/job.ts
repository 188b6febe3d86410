// Pure: a Job (judged like `kubectl wait --for=condition=complete`, failing on its Failed condition) and a CronJob
// (created, never waited for: it runs on its schedule).
import type { KubeObject } from '../kube/object.js';
import {
  describeFailedPods,
  failedContainerOf,
  fatalJobWaitingReasons,
  findPodFailureWhere,
  isOwnedBy,
} from './pods.js';
import {
  done,
  failedCreate,
  failedCreateVerdict,
  failuresSince,
  liveObject,
  notSeenYet,
  podFailedVerdict,
  progressing,
  type Condition,
  type Meta,
  type Snapshot,
  type Verdict,
} from './snapshot.js';

interface JobShape {
  metadata: Meta;
  spec?: { completions?: number; parallelism?: number };
  status?: { active?: number; succeeded?: number; failed?: number; conditions?: Condition[] };
}

export function assessJob(applied: KubeObject, snapshot: Snapshot, putStartedAt?: string): Verdict {
  const ref = `job/${applied.metadata.name}`;
  // A Job has no observedGeneration (its template cannot change): the applied uid tells ours from a replaced one.
  const live = liveObject(snapshot, 'Job', applied);
  if (!live) return notSeenYet(ref);
  const job = live as unknown as JobShape;
  const status = job.status ?? {};
  const condition = (type: string) => status.conditions?.find((c) => c.type === type && c.status === 'True');
  const ours = (pod: KubeObject) => isOwnedBy(pod, job.metadata.uid);

  const failed = condition('Failed');
  if (failed) {
    const pods = describeFailedPods(snapshot.Pod, ours);
    const cause = `${failed.reason ?? 'Failed'}${failed.message ? `: ${failed.message}` : ''}`;
    const logsOf = failedContainerOf(snapshot.Pod, ours);
    return {
      state: 'failed',
      message: `${ref} failed: ${cause}${pods.length ? `; failed pods: ${pods.join(', ')}` : ''}`,
      eventsOf: { kind: 'Job', name: job.metadata.name },
      ...(logsOf ? { logsOf } : {}),
    };
  }
  const completions = job.spec?.completions;
  const succeeded = status.succeeded ?? 0;
  if (condition('Complete'))
    return done(`${ref}: completed (${succeeded}${completions !== undefined ? ` of ${completions}` : ''} succeeded)`);

  if ((status.active ?? 0) === 0) {
    const event = failedCreate(snapshot, live, failuresSince(applied, putStartedAt));
    if (event) return failedCreateVerdict(ref, event);
  }
  const failure = findPodFailureWhere(snapshot.Pod, ours, fatalJobWaitingReasons);
  if (failure) return podFailedVerdict(ref, failure);
  const counts = `${status.active ?? 0} active, ${status.failed ?? 0} failed`;
  if (completions === undefined)
    return progressing(`${ref}: waiting for completion (${succeeded} succeeded, ${counts})`);
  return progressing(`${ref}: ${succeeded} of ${completions} completions (${counts})`);
}

export function assessCronJob(applied: KubeObject): Verdict {
  return done(`cronjob/${applied.metadata.name}: created; not waited for (a CronJob runs on its schedule)`);
}
