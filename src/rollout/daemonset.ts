// Pure: a DaemonSet's rollout, judged like kubectl's `rollout status daemonset` on the generation this put wrote.
import type { KubeObject } from '../kube/object.js';
import { findPodFailureWhere, isOwnedBy } from './pods.js';
import {
  done,
  failedCreate,
  failedCreateVerdict,
  failuresSince,
  generationObserved,
  liveObject,
  notSeenYet,
  podFailedVerdict,
  progressing,
  type Meta,
  type Snapshot,
  type Verdict,
} from './snapshot.js';

interface DaemonSetShape {
  metadata: Meta;
  spec?: { updateStrategy?: { type?: string } };
  status?: {
    observedGeneration?: number;
    desiredNumberScheduled?: number;
    currentNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
  };
}

// The DaemonSet controller labels each Pod with the template generation it was made from (apps/v1 keeps it here).
const templateGeneration = 'deprecated.daemonset.template.generation';

export function assessDaemonSet(applied: KubeObject, snapshot: Snapshot, putStartedAt?: string): Verdict {
  const ref = `daemonset/${applied.metadata.name}`;
  const strategy = (applied as unknown as DaemonSetShape).spec?.updateStrategy?.type ?? 'RollingUpdate';
  if (strategy === 'OnDelete') {
    return done(
      `${ref}: not waited for: its updateStrategy is OnDelete, so its Pods change only when they are deleted`,
    );
  }
  const live = liveObject(snapshot, 'DaemonSet', applied);
  if (!live) return notSeenYet(ref);
  const ds = live as unknown as DaemonSetShape;
  const status = ds.status ?? {};
  const desired = status.desiredNumberScheduled ?? 0;
  const observed = generationObserved(live, applied);
  // Before the generation check: the controller does not write its status when a Pod cannot be created.
  if (!observed || (status.currentNumberScheduled ?? 0) < desired || (status.updatedNumberScheduled ?? 0) < desired) {
    const event = failedCreate(snapshot, live, failuresSince(applied, putStartedAt));
    if (event) return failedCreateVerdict(ref, event);
  }
  if (!observed) return progressing(`${ref}: waiting for the daemonset spec update to be observed`);
  const generation = ds.metadata.annotations?.[templateGeneration];
  const failure = findPodFailureWhere(
    snapshot.Pod,
    (pod) =>
      isOwnedBy(pod, ds.metadata.uid) &&
      (!generation || pod.metadata.labels?.['pod-template-generation'] === generation),
  );
  if (failure) return podFailedVerdict(ref, failure);

  const updated = status.updatedNumberScheduled ?? 0;
  const available = status.numberAvailable ?? 0;
  if (updated < desired) return progressing(`${ref}: ${updated} of ${desired} new pods updated`);
  if (available < desired) return progressing(`${ref}: ${available} of ${desired} updated pods available`);
  return done(`${ref}: successfully rolled out (${available} of ${desired} pods available)`);
}
