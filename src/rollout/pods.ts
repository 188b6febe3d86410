// Pure: what the Pods of a workload say about it — containers stuck for good, terminated containers of a failed Job,
// and the recent events that explain them.
import type { KubeObject } from '../kube/object.js';
import type { LogSource } from './logs.js';

/** Waiting reasons that will not fix themselves: fail the put now rather than at the timeout. */
export const fatalWaitingReasons = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CrashLoopBackOff',
  'CreateContainerConfigError',
  'CreateContainerError',
  'RunContainerError',
]);

/**
 * A Job restarts or replaces crashing containers itself, up to its backoffLimit: only the Job's Failed condition
 * counts.
 */
export const fatalJobWaitingReasons = new Set([...fatalWaitingReasons].filter((r) => r !== 'CrashLoopBackOff'));

export interface PodFailure {
  pod: string;
  container: string;
  reason: string;
  message: string;
  restartCount: number;
}

interface ContainerStatus {
  name: string;
  restartCount?: number;
  state?: {
    waiting?: { reason?: string; message?: string };
    terminated?: { exitCode?: number; reason?: string; message?: string };
  };
  lastState?: { terminated?: { exitCode?: number } };
}
export interface PodShape {
  metadata: {
    name: string;
    uid?: string;
    labels?: Record<string, string>;
    deletionTimestamp?: string;
    ownerReferences?: { uid?: string }[];
  };
  status?: { phase?: string; initContainerStatuses?: ContainerStatus[]; containerStatuses?: ContainerStatus[] };
}

export const asPod = (object: KubeObject) => object as unknown as PodShape;

/** Whether an object's owner references name the given uid (a Pod of a ReplicaSet, a ReplicaSet of a Deployment, …). */
export function isOwnedBy(object: KubeObject, uid: string | undefined): boolean {
  const refs = (object.metadata as { ownerReferences?: { uid?: string }[] }).ownerReferences;
  return uid !== undefined && (refs ?? []).some((r) => r.uid === uid);
}

/** The first Pod accepted by `belongs` (not being deleted) whose container waits for one of `reasons`. */
export function findPodFailureWhere(
  pods: KubeObject[],
  belongs: (pod: KubeObject) => boolean,
  reasons: Set<string> = fatalWaitingReasons,
): PodFailure | undefined {
  for (const object of pods) {
    const pod = asPod(object);
    if (pod.metadata.deletionTimestamp || !belongs(object)) continue;
    for (const status of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      const waiting = status.state?.waiting;
      if (waiting?.reason && reasons.has(waiting.reason)) {
        return {
          pod: pod.metadata.name,
          container: status.name,
          reason: waiting.reason,
          message: waiting.message ?? '',
          restartCount: status.restartCount ?? 0,
        };
      }
    }
  }
  return undefined;
}

/** The first Pod (of the given template hash, when known) whose container is stuck for good. */
export function findPodFailure(pods: KubeObject[], templateHash?: string): PodFailure | undefined {
  return findPodFailureWhere(pods, (p) => !templateHash || p.metadata.labels?.['pod-template-hash'] === templateHash);
}

interface EventShape {
  reason?: string;
  message?: string;
  type?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
  series?: { lastObservedTime?: string };
  metadata?: { creationTimestamp?: string };
  involvedObject?: { kind?: string; name?: string; uid?: string };
}
export const asEvent = (object: KubeObject) => object as unknown as EventShape;

/** When an event last happened (server time, RFC 3339), whichever API version wrote it. */
export function eventTime(event: KubeObject): string {
  const e = asEvent(event);
  return e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '';
}

/** "Pulling: Pulling image "x" | Warning Failed: Error: ErrImagePull (x2)", the newest `limit`, oldest first. */
export function describeEvents(events: KubeObject[], limit = 5): string {
  return events
    .slice()
    .sort((a, b) => Date.parse(eventTime(a) || '0') - Date.parse(eventTime(b) || '0'))
    .slice(-limit)
    .map(asEvent)
    .map(
      (e) =>
        `${e.type === 'Warning' ? 'Warning ' : ''}${e.reason ?? ''}: ${e.message ?? ''}` +
        `${(e.count ?? 1) > 1 ? ` (x${e.count})` : ''}`,
    )
    .join(' | ');
}

/** "pod/web-1 container web: ImagePullBackOff: …; recent events: Failed: …" */
export function describePodFailure(failure: PodFailure, events: KubeObject[], limit = 5): string {
  const recent = describeEvents(events, limit);
  const restarts = failure.reason === 'CrashLoopBackOff' ? ` (restarted ${failure.restartCount} times)` : '';
  const main =
    `pod/${failure.pod} container ${failure.container}: ${failure.reason}${restarts}` +
    `${failure.message ? `: ${failure.message}` : ''}`;
  return recent ? `${main}; recent events: ${recent}` : main;
}

/**
 * The container whose log says why a Job failed: in a failed Pod, the first that exited non-zero; else (restartPolicy
 * OnFailure restarts it in place) the previous run of one that did.
 */
export function failedContainerOf(pods: KubeObject[], belongs: (pod: KubeObject) => boolean): LogSource | undefined {
  const ours = pods.filter((p) => belongs(p));
  const statuses = (pod: PodShape) => [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  for (const pod of ours.map(asPod).filter((p) => p.status?.phase === 'Failed')) {
    const exited = statuses(pod).find((c) => (c.state?.terminated?.exitCode ?? 0) !== 0);
    if (exited) return { pod: pod.metadata.name, container: exited.name, previous: false };
  }
  for (const pod of ours.map(asPod)) {
    const exited = statuses(pod).find((c) => (c.lastState?.terminated?.exitCode ?? 0) !== 0);
    if (exited) return { pod: pod.metadata.name, container: exited.name, previous: true };
  }
  return undefined;
}

/**
 * "pod/migrate-x7k2p (container migrate exit code 1: Error: no such table)" for each failed Pod accepted by
 * `belongs`.
 */
export function describeFailedPods(pods: KubeObject[], belongs: (pod: KubeObject) => boolean, limit = 5): string[] {
  const failed = pods.filter((p) => belongs(p) && asPod(p).status?.phase === 'Failed');
  return failed.slice(0, limit).map((object) => {
    const pod = asPod(object);
    const terminated = (pod.status?.containerStatuses ?? [])
      .filter((c) => c.state?.terminated && c.state.terminated.exitCode !== 0)
      .map((c) => {
        const t = c.state!.terminated!;
        const detail = [t.reason, t.message?.trim()].filter(Boolean).join(': ');
        return `container ${c.name} exit code ${t.exitCode ?? '?'}${detail ? `: ${detail}` : ''}`;
      });
    return `pod/${pod.metadata.name}${terminated.length ? ` (${terminated.join(', ')})` : ''}`;
  });
}
