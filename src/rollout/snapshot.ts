// Pure: what the wait has seen of the cluster, what a decision about one workload looks like, and the rules every
// kind shares (the generation this put wrote must be observed; Pods that could not be created fail fast).
import type { KubeObject } from '../kube/object.js';
import type { LogSource } from './logs.js';
import { asEvent, describePodFailure, eventTime, type PodFailure } from './pods.js';

/** The kinds the wait watches. Events are only the `FailedCreate` ones (a controller could not create a Pod). */
export type WatchedKind = 'Deployment' | 'ReplicaSet' | 'StatefulSet' | 'DaemonSet' | 'Job' | 'Pod' | 'Event';

/**
 * The latest state of each watched kind, as the watches delivered it; `Custom`: the objects of every kind waited for
 * by a wait-for annotation (condition.ts), told apart by apiVersion and kind.
 */
export type Snapshot = Record<WatchedKind | 'Custom', KubeObject[]>;

export const emptySnapshot = (): Snapshot => ({
  Custom: [],
  Deployment: [],
  ReplicaSet: [],
  StatefulSet: [],
  DaemonSet: [],
  Job: [],
  Pod: [],
  Event: [],
});

export type Verdict =
  /** `quiet`: not worth a progress line (the watch has not delivered the object yet), but said at a timeout. */
  | { state: 'progressing'; message: string; quiet?: true }
  | { state: 'done'; message: string }
  /**
   * `eventsOf`: the object whose recent events the message should end with; `logsOf`: the container whose last log
   * lines end it after them (both looked up by the wait).
   */
  | { state: 'failed'; message: string; eventsOf?: { kind: string; name: string }; logsOf?: LogSource };

export const progressing = (message: string): Verdict => ({ state: 'progressing', message });
export const notSeenYet = (ref: string): Verdict => ({
  state: 'progressing',
  message: `${ref}: waiting for it to appear`,
  quiet: true,
});
export const done = (message: string): Verdict => ({ state: 'done', message });

export interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

export interface Meta {
  name: string;
  uid?: string;
  generation?: number;
  creationTimestamp?: string;
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  ownerReferences?: { uid?: string }[];
  managedFields?: { manager?: string; operation?: string; time?: string }[];
}

/**
 * The live object the put applied: `applied` is what the apply returned. A watched object with another uid is an
 * older object of the same name (being replaced): not ours to judge.
 */
export function liveObject(snapshot: Snapshot, kind: WatchedKind, applied: KubeObject): KubeObject | undefined {
  const uid = (applied.metadata as Meta).uid;
  return snapshot[kind].find(
    (o) => o.metadata.name === applied.metadata.name && (!uid || (o.metadata as Meta).uid === uid),
  );
}

/** Whether the controller has seen the spec this put wrote (the live object's generation, at least the applied one). */
export function generationObserved(live: KubeObject, applied: KubeObject): boolean {
  const status = (live.status ?? {}) as { observedGeneration?: number };
  const written = Math.max((live.metadata as Meta).generation ?? 0, (applied.metadata as Meta).generation ?? 0);
  return (status.observedGeneration ?? 0) >= written && (status.observedGeneration ?? 0) > 0;
}

/** When the put last changed the object (server time: our field manager's entry), if the server says. */
export function appliedAt(applied: KubeObject, manager = 'kubernetes-deploy-resource'): string | undefined {
  const entries = (applied.metadata as Meta).managedFields ?? [];
  return entries.find((m) => m.manager === manager && m.time)?.time;
}

/**
 * Since when a failure to create Pods counts against this put: from its apply of the workload when that apply changed
 * it (our field manager's time), else (an unchanged workload, re-put) from this put's start on, `putStartedAt` being
 * the server's time of taking the release lock. What a controller said before belongs to an earlier put: a
 * ReplicaFailure condition keeps its old time, and the controller's next try renews its FailedCreate event if the cause
 * is still there (a missing ServiceAccount since created is not). Server times have whole seconds: an event in the
 * second the put started may be the last put's, so an unchanged workload's count from the next second.
 */
export function failuresSince(applied: KubeObject, putStartedAt: string | undefined): string | undefined {
  const wrote = appliedAt(applied);
  if (!putStartedAt) return wrote;
  const startSecond = Math.floor(Date.parse(putStartedAt) / 1000) * 1000;
  if (!Number.isFinite(startSecond)) return wrote;
  if (wrote && Date.parse(wrote) >= startSecond) return wrote;
  return new Date(startSecond + 1000).toISOString();
}

/**
 * The newest `FailedCreate` event of the live object since the put changed it, e.g. `pods "db-0" is forbidden:
 * exceeded quota: …`. Older events (from an earlier put) do not count: the caller also checks Pods are missing.
 */
export function failedCreate(snapshot: Snapshot, live: KubeObject, since: string | undefined): KubeObject | undefined {
  const uid = (live.metadata as Meta).uid;
  return snapshot.Event.filter((e) => {
    const event = asEvent(e);
    return (
      event.reason === 'FailedCreate' &&
      event.involvedObject?.uid === uid &&
      notBefore(eventTime(e), since) &&
      refusedCreate(event.message)
    );
  })
    .sort((a, b) => Date.parse(eventTime(a) || '0') - Date.parse(eventTime(b) || '0'))
    .at(-1);
}

/**
 * Whether a controller's failure to create a Pod is the API server refusing it (a quota, a missing ServiceAccount, an
 * admission webhook or Pod Security): that will not heal by itself. A failure to reach the API server ("unexpected
 * EOF", "connection refused" while it restarts) is retried by the controller and must not fail the put.
 */
export function refusedCreate(message: string | undefined): boolean {
  return /\bis forbidden\b|\bis invalid\b|\bdenied the request\b/.test(message ?? '');
}

/** Whether a server timestamp is not older than `since` (second precision: the same second counts). */
export function notBefore(time: string | undefined, since: string | undefined): boolean {
  if (!since) return true;
  if (!time) return false;
  return Date.parse(time) >= Math.floor(Date.parse(since) / 1000) * 1000;
}

export function failedCreateVerdict(ref: string, event: KubeObject): Verdict {
  const e = asEvent(event);
  return { state: 'failed', message: `${ref} failed: cannot create Pods: FailedCreate: ${e.message ?? ''}`.trim() };
}

/** A workload failed by one of its current Pods: named, with that Pod's events looked up by the wait. */
export function podFailedVerdict(ref: string, failure: PodFailure): Verdict {
  // A crashing container said why in its log: the instance that exited, not the one waiting in back-off.
  const crashed = failure.reason === 'CrashLoopBackOff';
  return {
    state: 'failed',
    message: `${ref} failed: ${describePodFailure(failure, [])}`,
    eventsOf: { kind: 'Pod', name: failure.pod },
    ...(crashed ? { logsOf: { pod: failure.pod, container: failure.container, previous: true } } : {}),
  };
}
