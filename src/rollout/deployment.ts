// Pure: is a Deployment rolled out, still progressing, or failed — judged only on the generation this put wrote and
// the ReplicaSet of that generation's template. The counts follow kubectl's `rollout status` (DeploymentStatusViewer)
// in order; Pod causes come first so that a broken image fails in seconds.
import type { KubeObject } from '../kube/object.js';
import { asEvent, findPodFailureWhere, isOwnedBy } from './pods.js';
import {
  done,
  failedCreate,
  failuresSince,
  generationObserved,
  liveObject,
  notBefore,
  notSeenYet,
  podFailedVerdict,
  refusedCreate,
  progressing,
  type Condition,
  type Meta,
  type Snapshot,
  type Verdict,
} from './snapshot.js';

interface DeploymentShape {
  metadata: Meta;
  spec?: { replicas?: number; template?: unknown };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions?: Condition[];
  };
}
interface ReplicaSetShape {
  metadata: Meta;
  spec?: { replicas?: number; template?: unknown };
  status?: { replicas?: number; conditions?: (Condition & { lastTransitionTime?: string })[] };
}

/** kubectl's `rollout status` for one Deployment object, on its own generation. */
export function assessDeployment(object: KubeObject): Verdict {
  const d = object as unknown as DeploymentShape;
  const name = `deployment/${d.metadata.name}`;
  const status = d.status ?? {};
  if ((d.metadata.generation ?? 0) > (status.observedGeneration ?? 0)) {
    return progressing(`${name}: waiting for the deployment spec update to be observed`);
  }
  const progressingCondition = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressingCondition?.reason === 'ProgressDeadlineExceeded') {
    const why = progressingCondition.message ?? '';
    return {
      state: 'failed',
      message: `${name} exceeded its progress deadline (ProgressDeadlineExceeded): ${why}`.trim(),
    };
  }
  return assessDeploymentCounts(d);
}

function assessDeploymentCounts(d: DeploymentShape): Verdict {
  const name = `deployment/${d.metadata.name}`;
  const status = d.status ?? {};
  const wanted = d.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const replicas = status.replicas ?? 0;
  const available = status.availableReplicas ?? 0;
  if (updated < wanted) return progressing(`${name}: ${updated} of ${wanted} new replicas updated`);
  if (replicas > updated) return progressing(`${name}: ${replicas - updated} old replicas pending termination`);
  if (available < updated) return progressing(`${name}: ${available} of ${updated} updated replicas available`);
  return done(`${name}: successfully rolled out (${available} of ${wanted} replicas available)`);
}

/**
 * Code-unit order: deterministic, which is all a comparison of two normalized templates needs (keys and RFC 3339
 * timestamps are ASCII). localeCompare would load ICU's collator on first use: about 10 ms of every put.
 */
const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** JSON without empty values (the API server omits them; nil and empty compare equal for the controller too). */
function normalized(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(normalized).filter((v) => v !== undefined);
    return items.length ? items : undefined;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value)
      .map(([k, v]) => [k, normalized(v)] as const)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => byCodeUnits(a, b));
    return entries.length ? Object.fromEntries(entries) : undefined;
  }
  return value === null ? undefined : value;
}

function withoutHash(template: unknown): string {
  const copy = structuredClone(template ?? {}) as { metadata?: { labels?: Record<string, string> } };
  delete copy.metadata?.labels?.['pod-template-hash'];
  return JSON.stringify(normalized(copy) ?? {});
}

/**
 * The ReplicaSet of the Deployment's current template, found the way the Deployment controller finds its "new"
 * ReplicaSet: owned by it, same Pod template apart from the pod-template-hash label, the oldest if several. Not by the
 * revision annotation: the controller writes `observedGeneration` before it moves the annotation to a ReplicaSet it
 * rolls back to, so the annotation can still name the superseded (failed) ReplicaSet.
 */
export function currentReplicaSet(deployment: KubeObject, replicaSets: KubeObject[]): KubeObject | undefined {
  const d = deployment as unknown as DeploymentShape;
  const template = withoutHash(d.spec?.template);
  return replicaSets
    .filter(
      (rs) =>
        isOwnedBy(rs, d.metadata.uid) && withoutHash((rs as unknown as ReplicaSetShape).spec?.template) === template,
    )
    .sort((a, b) =>
      byCodeUnits((a.metadata as Meta).creationTimestamp ?? '', (b.metadata as Meta).creationTimestamp ?? ''),
    )
    .at(0);
}

/** The pod-template-hash of the Deployment's current ReplicaSet. */
export function currentTemplateHash(deployment: KubeObject, replicaSets: KubeObject[]): string | undefined {
  return currentReplicaSet(deployment, replicaSets)?.metadata.labels?.['pod-template-hash'];
}

const podOf = (rs: KubeObject) => (pod: KubeObject) => {
  const owners = (pod.metadata as Meta).ownerReferences;
  if (owners?.length) return isOwnedBy(pod, (rs.metadata as Meta).uid);
  return pod.metadata.labels?.['pod-template-hash'] === rs.metadata.labels?.['pod-template-hash'];
};

/**
 * The Deployment the put applied, judged on the generation it wrote: until the controller has observed it nothing
 * counts (its status, conditions and Pods may still be the previous revision's); after that, only the ReplicaSet of
 * the current template and its Pods. Pods of superseded ReplicaSets never fail a put.
 */
export function assessDeploymentRollout(applied: KubeObject, snapshot: Snapshot, putStartedAt?: string): Verdict {
  const ref = `deployment/${applied.metadata.name}`;
  const live = liveObject(snapshot, 'Deployment', applied);
  if (!live) return notSeenYet(ref);
  if (!generationObserved(live, applied))
    return progressing(`${ref}: waiting for the deployment spec update to be observed`);
  const d = live as unknown as DeploymentShape;
  const rs = currentReplicaSet(live, snapshot.ReplicaSet);

  const deadline = d.status?.conditions?.find(
    (c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded',
  );
  // The condition outlives the generation that caused it ("ReplicaSet "web-5d4" has timed out progressing."):
  // it counts only when it names the current ReplicaSet, or names none.
  const named = /ReplicaSet "([^"]+)"/.exec(deadline?.message ?? '')?.[1];
  if (deadline && (named === undefined || named === rs?.metadata.name)) {
    return {
      state: 'failed',
      message: `${ref} exceeded its progress deadline (ProgressDeadlineExceeded): ${deadline.message ?? ''}`.trim(),
    };
  }
  let earlier: string | undefined;
  if (rs) {
    const rsRef = `replicaset/${rs.metadata.name}`;
    const rsStatus = (rs as unknown as ReplicaSetShape).status;
    // Pods missing, and the controller said why since this put changed the Deployment (or, unchanged, since this put
    // began): in the ReplicaFailure condition (set once, when creation first fails) or in a FailedCreate event
    // (renewed on every retry). An older one is left from before (a quota since raised, a ServiceAccount since
    // created) and clears on the controller's next try; until then it is said, not judged.
    if ((rsStatus?.replicas ?? 0) < ((rs as unknown as ReplicaSetShape).spec?.replicas ?? 1)) {
      const since = failuresSince(applied, putStartedAt);
      const failed = rsStatus?.conditions?.find(
        (c) => c.type === 'ReplicaFailure' && c.status === 'True' && refusedCreate(c.message),
      );
      if (failed && notBefore(failed.lastTransitionTime, since)) {
        const cause = `${failed.reason ?? 'ReplicaFailure'}: ${failed.message ?? ''}`.trim();
        return { state: 'failed', message: `${ref} failed: ${rsRef} cannot create Pods: ${cause}` };
      }
      const event = failedCreate(snapshot, rs, since);
      // The ReplicaSet controller's event says "Error creating: <the condition's message>": one wording whichever
      // of the two the wait sees first.
      if (event) {
        const said = (asEvent(event).message ?? '').replace(/^Error creating: /, '');
        return { state: 'failed', message: `${ref} failed: ${rsRef} cannot create Pods: FailedCreate: ${said}`.trim() };
      }
      if (failed) {
        const cause = `${failed.reason ?? 'ReplicaFailure'}: ${failed.message ?? ''}`.trim();
        earlier = `before this put ${rsRef} could not create Pods: ${cause}`;
      }
    }
    const failure = findPodFailureWhere(snapshot.Pod, podOf(rs));
    if (failure) return podFailedVerdict(ref, failure);
  }
  const verdict = assessDeploymentCounts(d);
  return earlier && verdict.state === 'progressing' ? progressing(`${verdict.message} (${earlier})`) : verdict;
}
