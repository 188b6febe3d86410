// The put's decisions, pure, as kapp computes its change set once: from what is there (state.ts) and the release to
// put, the whole ReleaseChanges — revision and reuse, the record, the verdict on kinds and ownership, the apply order
// with its before gate, replica hand-overs, restarts, what to wait for, what to prune and the history to drop. No
// cluster call here: deploy, dry run, rollback and redeploy take their decisions from the same function, and apply.ts
// carries them out with no decision left.
import type { ObjectMetadata } from '../cluster/api.js';
import { objectRef, type KubeObject } from '../kube/object.js';
import { isBeforePhase } from '../manifests/extra.js';
import { isWorkload } from '../rollout/assess.js';
import { kindRefusal, ownershipRefusal, type Refusal } from './ownership.js';
import { pruneCandidates } from './prune.js';
import { contentHash, recordRevision, recordStatus, type ReleaseRecord } from './records.js';
import type { ReleaseContent } from './release.js';
import { replicasToHandOver } from './replicas.js';
import type { ReleaseState } from './state.js';

export interface RecordChange {
  revision: number;
  /** The same image and objects as the last deployed revision (mode apply): re-applied, nothing new recorded. */
  reused: boolean;
  record: ReleaseRecord;
}

export interface ReleaseChanges extends RecordChange {
  /** Why nothing may be written (a kind, a foreign object, mode create's conflicts); thrown before the first write. */
  refusal?: Refusal;
  /** Revisions a put that was cut off left pending: marked failed first (the put holds the lock). */
  cutOff: number[];
  /** How each object is written. */
  write: 'apply' | 'create';
  /** Every object, in the release's order. */
  objects: KubeObject[];
  /** Applied one after another before the gate: consecutive objects of one kind together. */
  groups: KubeObject[][];
  /** Jobs of phase "before": they complete before `own` is applied (waited for even with wait: false). */
  gate: KubeObject[];
  /** The app's own Deployment, Service and Ingress: applied last. */
  own: KubeObject[];
  /** The objects as they are before the put, by ref: what each write is compared with, and Jobs are judged on. */
  live: ReadonlyMap<string, KubeObject>;
  /** replicas: auto — the count to hand over before the apply, by ref (replicas.ts). */
  handover: ReadonlyMap<string, number>;
  /** restart: true — the workloads restarted, and those left alone because this put creates them. */
  restart?: { targets: KubeObject[]; created: KubeObject[] };
  /** The workloads whose rollout is waited for once all is applied; undefined with wait: false. */
  waitFor?: KubeObject[];
  /** What the releases since the last good one had and this one has not: deleted once it runs (prune: true). */
  prune: KubeObject[];
  /** The records dropped once this one is recorded deployed: this one is always kept. */
  dropHistory: ObjectMetadata[];
  historyLimit: number;
}

export interface PlanOptions {
  app: string;
  namespace: string;
  mode: 'apply' | 'create';
  now: Date;
  wait: boolean;
  restart: boolean;
  prune: boolean;
  historyLimit: number;
  /**
   * A rollback to the last deployed revision: the objects of the attempt that failed. A rollback records nothing,
   * restarts nothing, judges ownership as apply (it goes back over objects that exist by design), and prunes what the
   * failed attempt added.
   */
  rollbackFrom?: KubeObject[];
}

/** Everything a put (or a dry run, a rollback, a redeploy) of `release` does, decided on `state`. */
export function planChanges(state: ReleaseState, release: ReleaseContent, options: PlanOptions): ReleaseChanges {
  const { app } = options;
  const { objects } = release;
  const rollback = options.rollbackFrom !== undefined;
  const recordChange = planRecord(state, release, options);
  const groups = applyGroups(objects, app);
  const own = groups.at(-1)?.some((o) => isOwnObject(o, app)) ? groups.pop()! : [];
  const refusal =
    (state.kinds && kindRefusal(objects, state.kinds)) ??
    ownershipRefusal(objects, state.live, app, rollback ? 'apply' : options.mode);
  return {
    ...recordChange,
    ...(refusal ? { refusal } : {}),
    cutOff: rollback ? [] : state.records.filter((r) => recordStatus(r) === 'pending').map(recordRevision),
    write: options.mode,
    objects,
    groups,
    gate: objects.filter(isBeforePhase),
    own,
    live: state.live,
    handover: options.mode === 'apply' ? handovers(objects, state.live) : new Map(),
    ...(options.restart && !rollback ? { restart: restartOf(objects, state.live) } : {}),
    ...(options.wait ? { waitFor: objects.filter((o) => isWorkload(o) && !isBeforePhase(o)) } : {}),
    prune: options.prune ? pruneCandidates(state.attempts, state.lastDeployed, objects, options.rollbackFrom) : [],
    dropHistory: recordChange.reused || rollback ? [] : historyToDrop(state.records, options.historyLimit),
    historyLimit: options.historyLimit,
  };
}

/** The revision a put takes and the record it writes (or, reused, the one it re-applies). */
export function planRecord(
  state: Pick<ReleaseState, 'records' | 'lastDeployed'>,
  release: ReleaseContent,
  options: { app: string; namespace: string; mode: 'apply' | 'create'; now: Date },
): RecordChange {
  const { app, namespace } = options;
  const hash = contentHash(release.image.ref, release.objects);
  const reusable =
    options.mode === 'apply' && state.lastDeployed?.contentHash === hash ? state.lastDeployed : undefined;
  const revision = reusable
    ? reusable.revision
    : Math.max(0, ...state.records.map(recordRevision).filter(Number.isFinite)) + 1;
  const record: ReleaseRecord = {
    app,
    namespace,
    revision,
    image: release.image,
    objects: release.objects,
    ...(release.url ? { url: release.url } : {}),
    build: release.build,
    createdAt: options.now.toISOString(),
    contentHash: hash,
    ...(release.redeployedFrom !== undefined ? { redeployedFrom: release.redeployedFrom } : {}),
  };
  return { revision, reused: reusable !== undefined, record };
}

/** The app's own Deployment, Service and Ingress: applied last, after everything they may depend on. */
export const isOwnObject = (o: KubeObject, app: string) =>
  o.metadata.name === app && ['Deployment', 'Service', 'Ingress'].includes(o.kind);

/**
 * Consecutive runs of the same kind (extra manifests come sorted by kind), then the app's own Deployment, Service and
 * Ingress as one last group. Extras cannot take those names (parseExtraManifests reserves them).
 */
export function applyGroups(objects: KubeObject[], app: string): KubeObject[][] {
  const groups: KubeObject[][] = [];
  for (const object of objects.filter((o) => !isOwnObject(o, app))) {
    const last = groups.at(-1);
    if (last && last[0]!.kind === object.kind) last.push(object);
    else groups.push([object]);
  }
  const own = objects.filter((o) => isOwnObject(o, app));
  return own.length ? [...groups, own] : groups;
}

/** The records a put that writes a new one drops: of those listed before it, all but the newest `limit` - 1. */
export function historyToDrop(before: ObjectMetadata[], limit: number): ObjectMetadata[] {
  return before.slice(0, Math.max(0, before.length - (limit - 1)));
}

function handovers(objects: KubeObject[], live: ReadonlyMap<string, KubeObject>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const object of objects) {
    const count = replicasToHandOver(object, live.get(objectRef(object)));
    if (count !== undefined) counts.set(objectRef(object), count);
  }
  return counts;
}

const restartable = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

/**
 * restart: true — what `kubectl rollout restart` does, to each Deployment, StatefulSet and DaemonSet of the release
 * that is there already; one this put creates has just started.
 */
function restartOf(
  objects: KubeObject[],
  live: ReadonlyMap<string, KubeObject>,
): NonNullable<ReleaseChanges['restart']> {
  const workloads = objects.filter((o) => restartable.has(o.kind));
  return {
    targets: workloads.filter((o) => o.apiVersion === 'apps/v1' && live.has(objectRef(o))),
    created: workloads.filter((o) => !live.has(objectRef(o))),
  };
}
