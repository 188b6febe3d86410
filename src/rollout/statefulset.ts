// Pure: a StatefulSet's rollout, judged like kubectl's `rollout status statefulset` on the generation this put wrote;
// Pods of the update revision that are stuck for good, or Pods the controller cannot create, fail it at once.
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

interface StatefulSetShape {
  metadata: Meta;
  spec?: { replicas?: number; updateStrategy?: { type?: string; rollingUpdate?: { partition?: number } } };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
  };
}

export function assessStatefulSet(applied: KubeObject, snapshot: Snapshot, putStartedAt?: string): Verdict {
  const ref = `statefulset/${applied.metadata.name}`;
  const strategy = (applied as unknown as StatefulSetShape).spec?.updateStrategy?.type ?? 'RollingUpdate';
  if (strategy === 'OnDelete') {
    return done(
      `${ref}: not waited for: its updateStrategy is OnDelete, so its Pods change only when they are deleted`,
    );
  }
  const live = liveObject(snapshot, 'StatefulSet', applied);
  if (!live) return notSeenYet(ref);
  const s = live as unknown as StatefulSetShape;
  const status = s.status ?? {};
  const wanted = s.spec?.replicas ?? 1;
  const observed = generationObserved(live, applied);
  // Before the generation check: the controller does not write its status (observedGeneration) when a Pod cannot be
  // created. An event since this put changed the object comes from a sync of this spec.
  if (!observed || (status.replicas ?? 0) < wanted) {
    const event = failedCreate(snapshot, live, failuresSince(applied, putStartedAt));
    if (event) return failedCreateVerdict(ref, event);
  }
  if (!observed) return progressing(`${ref}: waiting for the statefulset spec update to be observed`);
  const updateRevision = status.updateRevision;
  const failure = findPodFailureWhere(
    snapshot.Pod,
    (pod) =>
      isOwnedBy(pod, s.metadata.uid) &&
      (!updateRevision || pod.metadata.labels?.['controller-revision-hash'] === updateRevision),
  );
  if (failure) return podFailedVerdict(ref, failure);

  const ready = status.readyReplicas ?? 0;
  const updated = status.updatedReplicas ?? 0;
  if (ready < wanted) return progressing(`${ref}: ${ready} of ${wanted} pods ready`);
  const partition = s.spec?.updateStrategy?.rollingUpdate?.partition ?? 0;
  if (partition > 0) {
    if (updated < wanted - partition)
      return progressing(`${ref}: ${updated} of ${wanted - partition} new pods updated (partition ${partition})`);
    return done(`${ref}: partitioned roll out complete (${updated} new pods updated, partition ${partition})`);
  }
  if (updateRevision !== status.currentRevision) {
    return progressing(`${ref}: ${updated} of ${wanted} pods updated to revision ${updateRevision ?? '?'}`);
  }
  return done(
    `${ref}: successfully rolled out (${ready} of ${wanted} pods ready at revision ${status.currentRevision ?? '?'})`,
  );
}
