// Jobs across re-puts. A Job's pod template is immutable (a changed one is refused with 422), and a Job that has
// completed is done: applying it again runs nothing. So a changed Job is replaced (deleted, then created: it runs
// again), an unchanged completed one is left as it is, and a Job that failed runs again.
// "Changed" compares what we apply now with what we applied before (a hash of the rendered spec, kept in an
// annotation on the Job), never the live spec, which the server has filled with defaults and a generated selector.
import { createHash } from 'node:crypto';
import type { ClusterApi, ObjectKey } from '../cluster/api.js';
import type { Logger } from '../log.js';
import { ourKey } from '../kube/labels.js';
import { keyOf, objectRef, type KubeObject } from '../kube/object.js';
import type { Clock, Deadline } from '../time.js';
import { waitUntilGone } from './gone.js';

export const jobSpecHashAnnotation = ourKey('job-spec-hash');

export function isJob(object: KubeObject): boolean {
  return object.kind === 'Job' && object.apiVersion.startsWith('batch/');
}

/** Hash of the Job's spec as we render it (metadata is mutable and left out: new labels never re-run a Job). */
export function jobSpecHash(job: KubeObject): string {
  return createHash('sha256')
    .update(JSON.stringify(job.spec ?? null))
    .digest('hex')
    .slice(0, 32);
}

/** The Job as we write it: with the hash of its spec. */
export function withSpecHash(job: KubeObject): KubeObject {
  return {
    ...job,
    metadata: {
      ...job.metadata,
      annotations: { ...job.metadata.annotations, [jobSpecHashAnnotation]: jobSpecHash(job) },
    },
  };
}

export type JobPlan =
  | { action: 'create' }
  | { action: 'apply'; why: string }
  | { action: 'leave'; why: string }
  | { action: 'replace'; why: string };

type JobStatus = { conditions?: { type?: string; status?: string; reason?: string }[] };
const finished = (job: KubeObject, type: 'Complete' | 'Failed') =>
  ((job.status as JobStatus | undefined)?.conditions ?? []).find((c) => c.type === type && c.status === 'True');

/** What to do with a Job we are about to write, given the one in the cluster (pure). */
export function planJob(desired: KubeObject, current: KubeObject | undefined): JobPlan {
  if (!current) return { action: 'create' };
  if (current.metadata.deletionTimestamp) return { action: 'replace', why: 'it is being deleted' };
  const applied = current.metadata.annotations?.[jobSpecHashAnnotation];
  if (applied === undefined)
    return {
      action: 'replace',
      why: `it carries no ${jobSpecHashAnnotation} annotation, so whether it changed is unknown`,
    };
  if (applied !== jobSpecHash(desired))
    return { action: 'replace', why: "its spec changed (a Job's pod template is immutable)" };
  const failed = finished(current, 'Failed');
  if (failed)
    return {
      action: 'replace',
      why: `it failed before${failed.reason ? ` (${failed.reason})` : ''}: running it again`,
    };
  if (finished(current, 'Complete'))
    return { action: 'leave', why: 'unchanged and complete: left as it is, not run again' };
  return { action: 'apply', why: 'unchanged and still running' };
}

export interface PutJobInput {
  cluster: ClusterApi;
  log: Logger;
  /** How the put writes objects (server-side apply, or create in mode create). */
  write: (object: KubeObject) => Promise<KubeObject>;
  /** The put's deadline: waiting for a replaced Job to go never outlasts it. */
  deadline: Deadline;
  clock: Clock;
  signal?: AbortSignal;
  pollMs?: number;
}

export type JobChange = 'created' | 'configured' | 'unchanged' | 'replaced';

/** Writes one Job of the release as planJob says; logs what happened and returns it with the Job as it now is. */
export async function putJob(
  input: PutJobInput,
  job: KubeObject,
  current: KubeObject | undefined,
): Promise<{ change: JobChange; after: KubeObject }> {
  const { cluster, log } = input;
  const ref = objectRef(job);
  const desired = withSpecHash(job);
  const plan = planJob(job, current);
  switch (plan.action) {
    case 'create':
      return { change: 'created', after: await input.write(desired) };
    case 'leave':
      log.info(`${ref} ${plan.why}`);
      return { change: 'unchanged', after: current! };
    case 'apply': {
      const after = await input.write(desired);
      log.info(`${ref} ${plan.why}`);
      return {
        change: after.metadata.resourceVersion === current?.metadata.resourceVersion ? 'unchanged' : 'configured',
        after,
      };
    }
    case 'replace': {
      log.info(`${ref}: replacing it, ${plan.why}`);
      const key = keyOf(job);
      // Background: the Job goes at once, its old Pods after it (they do not match the new Job's generated selector).
      const uid = current?.metadata.uid as string | undefined;
      // Only the Job we read and judged: one created meanwhile by someone else is not ours to replace (409).
      await cluster.remove(key, 'Background', uid ? { uid } : undefined);
      await waitForJobGone(input, key, uid);
      return { change: 'replaced', after: await input.write(desired) };
    }
  }
}

/** Until the Job we removed (that uid) is gone: another one of its name created meanwhile is not ours to wait for. */
function waitForJobGone(input: PutJobInput, key: ObjectKey, uid: string | undefined): Promise<void> {
  return waitUntilGone(
    {
      deadline: input.deadline,
      clock: input.clock,
      signal: input.signal,
      pollMs: input.pollMs ?? 100,
      maxPollMs: 1000,
    },
    async () => {
      const current = await input.cluster.read(key);
      return current && (uid === undefined || current.metadata.uid === uid) ? [current] : [];
    },
    () => `waiting for ${key.kind.toLowerCase()}/${key.name} to be deleted before re-creating it`,
  );
}
