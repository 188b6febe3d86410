// The put: namespace, lock, ownership check, release record, apply (or create), rollout wait, prune, record status,
// history. On a failed rollout, optionally a rollback to the last deployed revision. A dry run stops before the first
// write and hands back what the server would make of every object.
import type { ClusterApi, ObjectMetadata } from '../cluster/api.js';
import { ApiRejectedError } from '../errors.js';
import { releaseSelector } from '../kube/labels.js';
import { keyOf, objectRef, type KubeObject } from '../kube/object.js';
import type { ImageRef } from '../manifests/image.js';
import type { Version } from '../request/schemas.js';
import type { DeployOptions } from '../request/plan.js';
import { isBeforePhase } from '../manifests/extra.js';
import { isWorkload } from '../rollout/assess.js';
import { waitForRollout } from '../rollout/wait.js';
import { RolloutFailedError, TimedOutError } from '../errors.js';
import { mapBounded } from './bounded.js';
import { applyGroups, historyToDrop, isOwnObject, planRecord } from './changes.js';
import { isJob, putJob } from './jobs.js';
import { acquireReleaseLock, underLock } from './lock.js';
import { ensureNamespace, type ResourceScope } from './namespace.js';
import { checkOwnership } from './ownership.js';
import { deleteObjects, prunableRefs, pruneCandidates } from './prune.js';
import { handOverReplicas, replicasToHandOver } from './replicas.js';
import {
  encodeRecord,
  lastPutAnnotation,
  listRecords,
  markRecord,
  readRecordSecrets,
  recordKey,
  recordRevision,
  recordStatus,
  tryDecodeRecord,
  type ReleaseRecord,
} from './records.js';
import type { ReleaseTarget } from './target.js';

/** What a revision holds: the image and every object, as recorded. */
export interface ReleaseContent {
  image: ImageRef & { ref: string };
  objects: KubeObject[];
  url?: string;
  build: Record<string, string>;
  /** Set when this content is an earlier revision deployed again. */
  redeployedFrom?: number;
}

export interface DeployInput extends ReleaseTarget, DeployOptions {
  historyLimit: number;
  release: ReleaseContent;
  now: Date;
  /** Set by deployRelease once it holds the lock: the server's time this put began (the rollout wait's since). */
  putStartedAt?: string;
  /** Stamped on a namespace this put creates (create_namespace): the resource that did, for a sweep. */
  scope?: ResourceScope;
}

export interface DryRunObject {
  ref: string;
  /** The object as it is now; undefined when it would be created. */
  live?: KubeObject;
  /** What the server made of our object in a dry-run apply; undefined when it could not be asked (no namespace yet). */
  dryRun?: KubeObject;
  /** Our object as we would apply it. */
  desired: KubeObject;
}

export interface DeployResult {
  version: Version;
  revision: number;
  /** True when the same release was already recorded and nothing new was recorded. */
  reused: boolean;
  rolloutMs?: number;
  changes: { ref: string; change: 'created' | 'configured' | 'unchanged' | 'replaced' }[];
  /** Objects deleted because this release no longer has them (or that would be, in a dry run). */
  pruned: string[];
  /** "ref (why)" of objects the prune should have deleted but could not (left in place, reported). */
  notPruned: string[];
  /** A dry run: each object as the server would make it, and the revision the put would record (same planner). */
  dryRun?: { objects: DryRunObject[]; revision: number };
  /** restart: true: the time written into the restarted workloads' Pod templates. */
  restartedAt?: string;
}

export async function deployRelease(input: DeployInput): Promise<DeployResult> {
  if (input.dryRun) return dryRunRelease(input);
  const { cluster, log, namespace, app } = input;
  await ensureNamespace(cluster, namespace, input.createNamespace, app, log, input.scope);
  const lock = await acquireReleaseLock(input);
  try {
    const held = underLock(input, lock);
    return await deployLocked(lock.acquiredAt ? { ...held, putStartedAt: lock.acquiredAt } : held);
  } finally {
    // Only after the record's last write, never beside it: the lock guards the record, and a put that took the lock
    // before that write would find this record still pending and mark it failed.
    await lock.release();
  }
}

interface ReleaseState {
  existing: Map<string, KubeObject>;
  /** Metadata only: a put decodes the last deployed record, and those prune needs when it prunes. */
  records: ObjectMetadata[];
  /** The newest revision that rolled out, decoded (what is live, and what a rollback goes back to). */
  lastDeployed?: ReleaseRecord;
}

/** Independent reads, at once: kinds the server knows, who owns the objects, the release's records. */
async function readState(input: DeployInput): Promise<ReleaseState> {
  const { cluster, namespace, app } = input;
  const [, existing, records] = await Promise.all([
    checkKinds(cluster, input.release.objects),
    checkOwnership(cluster, input.release.objects, app, input.mode),
    listRecords(cluster, namespace, app),
  ]);
  const deployed = records.filter((r) => recordStatus(r) === 'deployed').at(-1);
  const [deployedSecret] = deployed ? await readRecordSecrets(cluster, [deployed]) : [];
  const lastDeployed = deployedSecret ? tryDecodeRecord(deployedSecret) : undefined;
  return { existing, records, ...(lastDeployed ? { lastDeployed } : {}) };
}

async function deployLocked(input: DeployInput): Promise<DeployResult> {
  const { cluster, log, namespace, app, release } = input;
  const state = await readState(input);
  // We hold the lock: a record still pending belongs to a put that was cut off (killed, or the cluster went away).
  const records = await mapBounded(state.records, 4, async (record) => {
    if (recordStatus(record) !== 'pending') return record;
    const marked = await markRecord(cluster, namespace, app, recordRevision(record), 'failed');
    log.info(`marked revision ${recordRevision(record)} of ${app} failed: the put that wrote it did not finish`);
    return { ...record, metadata: marked.metadata };
  });
  const tried = attemptsSince(cluster, records, state.lastDeployed);
  const { revision, reused, record } = planRecord({ ...state, records }, release, input);
  if (!reused) {
    // Written first, as "pending": a put cut off half-way leaves a record that teardown finds,
    // never a half-written one.
    await cluster.create(encodeRecord(record, 'pending'));
    log.info(`recording release ${app} revision ${revision} in namespace ${namespace}`);
  } else {
    log.info(`release ${app} revision ${revision} already has this image and these objects: re-applying it`);
    // A put that changes nothing still targeted the release: a sweep counts its age from here.
    await cluster.patchMetadata(recordKey(namespace, app, revision), {
      annotations: { [lastPutAnnotation]: input.now.toISOString() },
    });
  }
  const version: Version = { app, namespace, revision: String(revision), image: release.image.ref };

  let applied: Awaited<ReturnType<typeof applyAndWait>>;
  try {
    applied = await applyAndWait(input, release.objects, state.existing);
  } catch (error) {
    // Whatever stopped the put (a failed rollout, a refused apply, an abort), the record says failed, never pending.
    if (!reused) await markRecord(cluster.detached(), namespace, app, revision, 'failed').catch(() => undefined);
    if (input.onFailure === 'rollback' && (error instanceof RolloutFailedError || error instanceof TimedOutError)) {
      await rollBack(input, state, tried, error);
    }
    throw error;
  }
  // The failed attempts since the last good release, read before the history is cut (it may drop the oldest).
  const attempts = input.prune ? await tried() : [];
  if (!reused) {
    await markRecord(cluster, namespace, app, revision, 'deployed');
    await pruneHistory(cluster, records, input.historyLimit, log);
  }
  // Only once the new release runs and is recorded so: what the releases since the last good one had and this one has
  // not. A delete refused here is reported (not_pruned), never a reason to call the running release failed.
  const { deleted: pruned, failed: notPruned } = input.prune
    ? await deleteObjects(input, pruneCandidates(attempts, state.lastDeployed, release.objects), 'pruned')
    : { deleted: [], failed: [] };
  return { version, revision, reused, ...applied, pruned, notPruned };
}

/**
 * After a failed rollout (on_failure: rollback): the last deployed revision's objects again, waited for on what is
 * left of the put's deadline, and whatever the failed attempt added pruned. Never throws: the put fails with the
 * original error either way, and the log says what the rollback did.
 */
async function rollBack(
  input: DeployInput,
  state: ReleaseState,
  tried: () => Promise<KubeObject[]>,
  cause: Error,
): Promise<void> {
  const { log, app } = input;
  const target = state.lastDeployed;
  if (!target) {
    log.warn(`nothing to roll back to: ${app} has no earlier deployed revision; the failed objects stay for debugging`);
    return;
  }
  log.info(
    `rolling back to revision ${target.revision} of ${app} (${target.image.ref}) ` +
      `after: ${cause.message.split('\n')[0]}`,
  );
  try {
    const canWait = !input.deadline.expired();
    // The record's objects pass the checks of a new release, on the objects as they are now (right before the
    // write): namespaced kinds only, and nothing of the same name that is not ours (it would be taken over).
    await checkKinds(input.cluster, target.objects);
    await checkOwnership(input.cluster, target.objects, app, 'apply');
    // Compared with the objects as they were before this put: what the rollback changes back shows as configured.
    await applyAndWait({ ...input, wait: input.wait && canWait, restart: false }, target.objects, state.existing);
    if (input.prune)
      await deleteObjects(
        input,
        pruneCandidates(await tried(), target, target.objects, input.release.objects),
        'pruned',
      );
    log.info(
      `rolled back to revision ${target.revision}` +
        (canWait ? '' : ' (applied; its rollout was not waited for: the put timed out)'),
    );
  } catch (error) {
    log.warn(`could not roll back to revision ${target.revision}: ${(error as Error).message}`);
  }
}

/** Everything up to the first write, then a server-side dry-run apply of every object: nothing changes. */
async function dryRunRelease(input: DeployInput): Promise<DeployResult> {
  const { cluster, log, namespace, app, release } = input;
  const ns = await cluster.read({ apiVersion: 'v1', kind: 'Namespace', name: namespace });
  if (!ns && !input.createNamespace)
    throw new ApiRejectedError(
      `namespace ${namespace} does not exist (set params.create_namespace: true to create it)`,
      404,
    );
  if (!ns)
    log.info(
      `dry run: namespace ${namespace} would be created; ` +
        'the server cannot dry-run objects in a namespace that does not exist yet',
    );
  const state: ReleaseState = ns ? await readState(input) : { existing: new Map<string, KubeObject>(), records: [] };
  const objects = await mapBounded(release.objects, 8, async (desired): Promise<DryRunObject> => {
    const live = state.existing.get(objectRef(desired));
    // replicas: auto hands the count over before the apply (replicas.ts): the dry run shows it kept, not reset.
    const handover = replicasToHandOver(desired, live);
    const asApplied = handover === undefined ? desired : { ...desired, spec: { ...desired.spec!, replicas: handover } };
    const dryRun = ns
      ? await (input.mode === 'create'
          ? cluster.create(desired, { dryRun: true })
          : cluster.apply(asApplied, { dryRun: true }))
      : undefined;
    return { ref: objectRef(desired), desired, ...(live ? { live } : {}), ...(dryRun ? { dryRun } : {}) };
  });
  const { lastDeployed } = state;
  const attempts = attemptsSince(cluster, state.records, lastDeployed);
  // Only what a prune would delete now: still there, and still ours.
  const pruned = input.prune
    ? await prunableRefs(input, pruneCandidates(await attempts(), lastDeployed, release.objects))
    : [];
  const revision = lastDeployed?.revision ?? 0;
  return {
    version: { app, namespace, revision: String(revision), image: lastDeployed?.image.ref ?? '' },
    revision,
    reused: false,
    changes: [],
    pruned,
    notPruned: [],
    // The same decision as the put's on the same state: the revision it would take (or re-use).
    dryRun: { objects, revision: planRecord(state, release, input).revision },
  };
}

async function applyAndWait(
  input: DeployInput,
  objects: KubeObject[],
  existing: Map<string, KubeObject>,
): Promise<Pick<DeployResult, 'changes' | 'rolloutMs' | 'restartedAt'>> {
  const { cluster, log, namespace, app, deadline } = input;
  const changes: DeployResult['changes'] = [];
  // As applied (uid, generation): what the wait judges.
  const applied = new Map<string, KubeObject>();
  const write = (object: KubeObject) => (input.mode === 'create' ? cluster.create(object) : cluster.apply(object));
  const applyOne = async (object: KubeObject) => {
    const before = existing.get(objectRef(object));
    if (isJob(object)) {
      // Immutable once created: replaced when changed, left alone when complete (src/engine/jobs.ts).
      const { change, after } = await putJob(
        { cluster, log, write, deadline, clock: input.clock, ...(input.signal ? { signal: input.signal } : {}) },
        object,
        before,
      );
      applied.set(objectRef(object), after);
      changes.push({ ref: objectRef(object), change });
      log.info(`${objectRef(object)} ${change}`);
      return;
    }
    const handover = input.mode === 'apply' ? replicasToHandOver(object, before) : undefined;
    if (handover !== undefined) await handOverReplicas(cluster, object, handover, log);
    const after = await write(object);
    applied.set(objectRef(object), after);
    const change = !before
      ? 'created'
      : before.metadata.resourceVersion === after.metadata.resourceVersion
        ? 'unchanged'
        : 'configured';
    changes.push({ ref: objectRef(object), change });
    log.info(`${objectRef(object)} ${change}`);
  };
  const wait = (workloads: KubeObject[]) => {
    log.info(
      `waiting up to ${Math.round(deadline.remainingMs() / 1000)}s ` +
        `for ${workloads.map(objectRef).join(', ')} to roll out`,
    );
    return waitForRollout({
      cluster,
      namespace,
      selector: releaseSelector(app),
      workloads: workloads.map((o) => applied.get(objectRef(o)) ?? o),
      deadline,
      log,
      ...(input.signal ? { signal: input.signal } : {}),
      ...(input.putStartedAt ? { putStartedAt: input.putStartedAt } : {}),
    });
  };
  // In order of kind (objects are sorted so: dependencies first, the app's own objects last); objects of one kind
  // go together, a few at a time. Jobs of phase "before" complete before the app's own objects are applied.
  const groups = applyGroups(objects, app);
  const ownGroup = groups.at(-1)?.some((o) => isOwnObject(o, app)) ? groups.pop()! : [];
  for (const group of groups) await mapBounded(group, 8, applyOne);
  const beforePhase = objects.filter(isBeforePhase);
  let beforeMs = 0;
  if (beforePhase.length) {
    try {
      beforeMs = (await wait(beforePhase)).durationMs;
    } catch (error) {
      if (ownGroup.length)
        log.info(
          `not applying ${ownGroup.map(objectRef).join(', ')}: ` +
            `${beforePhase.map(objectRef).join(', ')} (phase before) did not complete`,
        );
      throw error;
    }
  }
  await mapBounded(ownGroup, 8, applyOne);
  const restarted = input.restart ? await restartWorkloads(input, objects, applied, changes) : {};
  if (!input.wait) return { changes, ...restarted };

  const { durationMs } = await wait(objects.filter((o) => isWorkload(o) && !isBeforePhase(o)));
  return { changes, rolloutMs: beforeMs + durationMs, ...restarted };
}

/** The Pod-template annotation `kubectl rollout restart` writes: one key, whichever of the two restarted last. */
export const restartedAtAnnotation = 'kubectl.kubernetes.io/restartedAt';
/** Not the apply's field manager: the next apply neither owns the annotation nor removes it (no second rollout). */
export const restartFieldManager = 'kubernetes-deploy-resource-restart';
const restartable = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

/**
 * restart: true — what `kubectl rollout restart` does to each Deployment, StatefulSet and DaemonSet of the release
 * that this put did not just create: the time in a Pod-template annotation, so that the controller rolls every Pod.
 * The patched object (its new generation) is what the wait then judges.
 */
async function restartWorkloads(
  input: DeployInput,
  objects: KubeObject[],
  applied: Map<string, KubeObject>,
  changes: DeployResult['changes'],
): Promise<Pick<DeployResult, 'restartedAt'>> {
  const { cluster, log } = input;
  const created = new Set(changes.filter((c) => c.change === 'created').map((c) => c.ref));
  const targets = objects.filter(
    (o) => restartable.has(o.kind) && o.apiVersion === 'apps/v1' && !created.has(objectRef(o)),
  );
  // Milliseconds: two restarts within a second must still differ, or the second would change nothing.
  const restartedAt = new Date(input.clock.now()).toISOString();
  const patch = { spec: { template: { metadata: { annotations: { [restartedAtAnnotation]: restartedAt } } } } };
  await mapBounded(targets, 8, async (object) => {
    applied.set(objectRef(object), await cluster.mergePatch(keyOf(object), patch, restartFieldManager));
  });
  const skipped = objects.filter((o) => restartable.has(o.kind) && created.has(objectRef(o)));
  if (targets.length)
    log.info(`restarting ${targets.map(objectRef).join(', ')} (${restartedAtAnnotation}: ${restartedAt})`);
  if (skipped.length)
    log.info(`not restarting ${skipped.map(objectRef).join(', ')}: created by this put, just started`);
  return targets.length ? { restartedAt } : {};
}

/** Custom kinds are only known to the server: each must exist there and be namespaced, before anything is written. */
async function checkKinds(cluster: ClusterApi, objects: KubeObject[]): Promise<void> {
  const kinds = new Map(objects.map((o) => [`${o.apiVersion}/${o.kind}`, o]));
  for (const object of kinds.values()) {
    const namespaced = await cluster.isNamespaced(object.apiVersion, object.kind);
    if (namespaced === undefined)
      throw new ApiRejectedError(
        `params.manifests: the cluster does not know kind ${object.kind} in ${object.apiVersion} ` +
          `(${objectRef(object)}); is its CustomResourceDefinition installed?`,
        404,
      );
    if (!namespaced)
      throw new ApiRejectedError(
        `params.manifests: ${objectRef(object)} is cluster-scoped; a release holds only namespaced objects`,
        422,
      );
  }
}

/**
 * The records of the attempts after the last deployed revision (failed, cut off), read whole on first use: with the
 * last deployed one, the only records prune decodes.
 */
function attemptsSince(
  cluster: ClusterApi,
  records: ObjectMetadata[],
  lastDeployed: ReleaseRecord | undefined,
): () => Promise<KubeObject[]> {
  let read: Promise<KubeObject[]> | undefined;
  const since = lastDeployed?.revision ?? 0;
  const attempts = records.filter((r) => recordRevision(r) > since && recordStatus(r) !== 'deployed');
  return () => (read ??= readRecordSecrets(cluster, attempts));
}

/** Keeps the newest `limit` records of the app: the ones listed before this put, and this put's own. */
async function pruneHistory(
  cluster: ClusterApi,
  before: ObjectMetadata[],
  limit: number,
  log: DeployInput['log'],
): Promise<void> {
  // This put's record is the newest and always kept: of the earlier ones, limit - 1 stay.
  const surplus = historyToDrop(before, limit);
  await mapBounded(surplus, 4, (r) =>
    cluster.remove(
      { apiVersion: 'v1', kind: 'Secret', namespace: r.metadata.namespace, name: r.metadata.name },
      'Background',
    ),
  );
  if (surplus.length)
    log.info(`pruned ${surplus.length} old release record${surplus.length > 1 ? 's' : ''} (history_limit ${limit})`);
}
