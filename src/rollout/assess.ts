// Pure rollout decisions for every workload of a release: which objects are waited for, what the wait must watch for
// them, and the verdict on each from what the watches have delivered. One file per kind holds the kind's rules.
import type { KubeObject } from '../kube/object.js';
import { assessDaemonSet } from './daemonset.js';
import { assessDeploymentRollout } from './deployment.js';
import { assessCondition, waitForConditionOf } from './condition.js';
import { assessCronJob, assessJob } from './job.js';
import type { Snapshot, Verdict, WatchedKind } from './snapshot.js';
import { assessStatefulSet } from './statefulset.js';

export { assessDeployment, assessDeploymentRollout, currentReplicaSet, currentTemplateHash } from './deployment.js';
export { describePodFailure, fatalWaitingReasons, findPodFailure, type PodFailure } from './pods.js';
export { emptySnapshot, type Snapshot, type Verdict, type WatchedKind } from './snapshot.js';

interface WorkloadRule {
  apiGroups: string[];
  /** What the wait must watch to judge this kind. */
  watches: WatchedKind[];
  /** `putStartedAt`: the server's time of this put's start (failuresSince). */
  assess: (applied: KubeObject, snapshot: Snapshot, putStartedAt?: string) => Verdict;
}

// Events: only `FailedCreate` ones (a controller could not create a Pod: a quota, a missing ServiceAccount, admission).
const rules: Record<string, WorkloadRule> = {
  Deployment: {
    apiGroups: ['apps/v1'],
    watches: ['Deployment', 'ReplicaSet', 'Pod', 'Event'],
    assess: assessDeploymentRollout,
  },
  StatefulSet: { apiGroups: ['apps/v1'], watches: ['StatefulSet', 'Pod', 'Event'], assess: assessStatefulSet },
  DaemonSet: { apiGroups: ['apps/v1'], watches: ['DaemonSet', 'Pod', 'Event'], assess: assessDaemonSet },
  Job: { apiGroups: ['batch/v1'], watches: ['Job', 'Pod', 'Event'], assess: assessJob },
  CronJob: { apiGroups: ['batch/v1'], watches: [], assess: assessCronJob },
};

/** Any other object with a wait-for annotation: watched by its own kind (customWatchesFor), judged by its condition. */
const conditionRule: WorkloadRule = { apiGroups: [], watches: [], assess: assessCondition };

function ruleFor(object: KubeObject): WorkloadRule | undefined {
  const rule = Object.hasOwn(rules, object.kind) ? rules[object.kind] : undefined;
  if (rule?.apiGroups.includes(object.apiVersion)) return rule;
  return waitForConditionOf(object) ? conditionRule : undefined;
}

/**
 * Whether the wait judges this object (Deployments, StatefulSets, DaemonSets, Jobs, objects with a wait-for
 * annotation; CronJobs are only reported).
 */
export const isWorkload = (object: KubeObject): boolean => ruleFor(object) !== undefined;

/** The kinds of the objects waited for by their condition, each once: watched into the snapshot's `Custom`. */
export function customWatchesFor(workloads: KubeObject[]): { apiVersion: string; kind: string }[] {
  const kinds = new Map<string, { apiVersion: string; kind: string }>();
  for (const w of workloads)
    if (ruleFor(w) === conditionRule)
      kinds.set(`${w.apiVersion} ${w.kind}`, { apiVersion: w.apiVersion, kind: w.kind });
  return [...kinds.values()];
}

/** The kinds to watch for these workloads, each once. */
export function watchesFor(workloads: KubeObject[]): WatchedKind[] {
  return [...new Set(workloads.flatMap((w) => ruleFor(w)?.watches ?? []))];
}

export function assessWorkload(applied: KubeObject, snapshot: Snapshot, putStartedAt?: string): Verdict {
  const rule = ruleFor(applied);
  if (!rule)
    return { state: 'done', message: `${applied.kind.toLowerCase()}/${applied.metadata.name}: not a workload` };
  return rule.assess(applied, snapshot, putStartedAt);
}

/** All failures in one line: the only one as it is, several numbered. */
export function combineFailures(messages: string[]): string {
  if (messages.length === 1) return messages[0]!;
  return `${messages.length} workloads failed: ${messages.map((m, i) => `(${i + 1}) ${m}`).join(' ')}`;
}
