// Pure rollout decisions. The Deployment check follows kubectl's `rollout status` (DeploymentStatusViewer) in order;
// the Pod check adds the causes kubectl only shows at the deadline, so that a broken image fails in seconds.
import type { KubeObject } from '../kube/object.js';

export type Assessment =
  | { state: 'progressing'; message: string }
  | { state: 'done'; message: string }
  | { state: 'failed'; message: string };

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}
interface DeploymentShape {
  metadata: { name: string; generation?: number; annotations?: Record<string, string>; uid?: string };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions?: Condition[];
  };
}

export function assessDeployment(object: KubeObject): Assessment {
  const d = object as unknown as DeploymentShape;
  const name = `deployment/${d.metadata.name}`;
  const status = d.status ?? {};
  if ((d.metadata.generation ?? 0) > (status.observedGeneration ?? 0)) {
    return { state: 'progressing', message: `${name}: waiting for the deployment spec update to be observed` };
  }
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { state: 'failed', message: `${name} exceeded its progress deadline (ProgressDeadlineExceeded): ${progressing.message ?? ''}`.trim() };
  }
  const wanted = d.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const replicas = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (updated < wanted) return { state: 'progressing', message: `${name}: ${updated} of ${wanted} new replicas updated` };
  if (replicas > updated) return { state: 'progressing', message: `${name}: ${replicas - updated} old replicas pending termination` };
  if (available < updated) return { state: 'progressing', message: `${name}: ${available} of ${updated} updated replicas available` };
  return { state: 'done', message: `${name}: successfully rolled out (${available} of ${wanted} replicas available)` };
}

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
  state?: { waiting?: { reason?: string; message?: string } };
}
interface PodShape {
  metadata: { name: string; labels?: Record<string, string>; deletionTimestamp?: string };
  status?: { initContainerStatuses?: ContainerStatus[]; containerStatuses?: ContainerStatus[] };
}

/** The first Pod (of the given template hash, when known) whose container is stuck for good. */
export function findPodFailure(pods: KubeObject[], templateHash?: string): PodFailure | undefined {
  for (const object of pods) {
    const pod = object as unknown as PodShape;
    if (pod.metadata.deletionTimestamp) continue;
    if (templateHash && pod.metadata.labels?.['pod-template-hash'] !== templateHash) continue;
    for (const status of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
      const waiting = status.state?.waiting;
      if (waiting?.reason && fatalWaitingReasons.has(waiting.reason)) {
        return { pod: pod.metadata.name, container: status.name, reason: waiting.reason, message: waiting.message ?? '', restartCount: status.restartCount ?? 0 };
      }
    }
  }
  return undefined;
}

interface ReplicaSetShape {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string>; ownerReferences?: { uid?: string }[] };
}

/** The pod-template-hash of the Deployment's current ReplicaSet (same revision annotation, owned by it). */
export function currentTemplateHash(deployment: KubeObject, replicaSets: KubeObject[]): string | undefined {
  const d = deployment as unknown as DeploymentShape;
  const revision = d.metadata.annotations?.['deployment.kubernetes.io/revision'];
  if (!revision) return undefined;
  for (const object of replicaSets) {
    const rs = object as unknown as ReplicaSetShape;
    const owned = rs.metadata.ownerReferences?.some((o) => o.uid === d.metadata.uid);
    if (owned && rs.metadata.annotations?.['deployment.kubernetes.io/revision'] === revision) return rs.metadata.labels?.['pod-template-hash'];
  }
  return undefined;
}

interface EventShape {
  reason?: string;
  message?: string;
  type?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
  metadata?: { creationTimestamp?: string };
}

/** "pod/web-1 container web: ImagePullBackOff: …; recent events: Failed: …" */
export function describePodFailure(failure: PodFailure, events: KubeObject[], limit = 5): string {
  const when = (e: EventShape) => e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp ?? '';
  const recent = (events as unknown as EventShape[])
    .slice()
    .sort((a, b) => when(a).localeCompare(when(b)))
    .slice(-limit)
    .map((e) => `${e.type === 'Warning' ? 'Warning ' : ''}${e.reason ?? ''}: ${e.message ?? ''}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ''}`);
  const restarts = failure.reason === 'CrashLoopBackOff' ? ` (restarted ${failure.restartCount} times)` : '';
  const main = `pod/${failure.pod} container ${failure.container}: ${failure.reason}${restarts}${failure.message ? `: ${failure.message}` : ''}`;
  return recent.length ? `${main}; recent events: ${recent.join(' | ')}` : main;
}
