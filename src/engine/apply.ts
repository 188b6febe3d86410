// Carries out a ReleaseChanges (changes.ts): the record's writes, the objects in their groups, the before gate, the
// restarts, the rollout wait and the prunes, in that order. No decision is taken here: what is written, compared,
// waited for and deleted is all in the change set.
import { releaseSelector } from '../kube/labels.js';
import { keyOf, objectRef, type KubeObject } from '../kube/object.js';
import { waitForRollout } from '../rollout/wait.js';
import { mapBounded } from './bounded.js';
import type { ReleaseChanges } from './changes.js';
import { putJob, isJob } from './jobs.js';
import { refusalError } from './ownership.js';
import { deleteObjects, prunableRefs, type PruneOutcome } from './prune.js';
import { handOverReplicas } from './replicas.js';
import { encodeRecord, lastPutAnnotation, markRecord, recordKey } from './records.js';
import type { ReleaseTarget } from './target.js';

export interface ApplyContext extends ReleaseTarget {
  /** The server's time this put began (the rollout wait's since), once it holds the lock. */
  putStartedAt?: string;
}

export interface ObjectChange {
  ref: string;
  change: 'created' | 'configured' | 'unchanged' | 'replaced';
}

export interface Applied {
  changes: ObjectChange[];
  rolloutMs?: number;
  /** restart: true: the time written into the restarted workloads' Pod templates. */
  restartedAt?: string;
}

/** Before the first write: a refused change set stops here, with the error the verdict names. */
export function throwIfRefused(changes: Pick<ReleaseChanges, 'refusal'>): void {
  if (changes.refusal) throw refusalError(changes.refusal);
}

/** The record first: a new one as "pending", or the reused one stamped; and the records a cut-off put left pending. */
export async function writeRecord(ctx: ApplyContext, changes: ReleaseChanges): Promise<void> {
  const { cluster, log, namespace, app } = ctx;
  await mapBounded(changes.cutOff, 4, async (revision) => {
    await markRecord(cluster, namespace, app, revision, 'failed');
    log.info(`marked revision ${revision} of ${app} failed: the put that wrote it did not finish`);
  });
  const { revision } = changes;
  if (!changes.reused) {
    // Written first, as "pending": a put cut off half-way leaves a record that teardown finds,
    // never a half-written one.
    await cluster.create(encodeRecord(changes.record, 'pending'));
    log.info(`recording release ${app} revision ${revision} in namespace ${namespace}`);
    return;
  }
  log.info(`release ${app} revision ${revision} already has this image and these objects: re-applying it`);
  // A put that changes nothing still targeted the release: a sweep counts its age from here.
  await cluster.patchMetadata(recordKey(namespace, app, revision), {
    annotations: { [lastPutAnnotation]: changes.record.createdAt },
  });
}

/** After anything stopped the put (a failed rollout, a refused apply, an abort): its record says failed. */
export async function markFailed(ctx: ApplyContext, changes: ReleaseChanges): Promise<void> {
  if (changes.reused) return;
  await markRecord(ctx.cluster.detached(), ctx.namespace, ctx.app, changes.revision, 'failed').catch(() => undefined);
}

/**
 * Once the release runs: its record marked deployed, the history cut, then the prune. A delete refused here is
 * reported (not_pruned), never a reason to call the running release failed.
 */
export async function completePut(ctx: ApplyContext, changes: ReleaseChanges): Promise<PruneOutcome> {
  const { cluster, log, namespace, app } = ctx;
  if (!changes.reused) {
    await markRecord(cluster, namespace, app, changes.revision, 'deployed');
    const surplus = changes.dropHistory;
    await mapBounded(surplus, 4, (r) =>
      cluster.remove(
        { apiVersion: 'v1', kind: 'Secret', namespace: r.metadata.namespace, name: r.metadata.name },
        'Background',
      ),
    );
    if (surplus.length)
      log.info(
        `pruned ${surplus.length} old release record${surplus.length > 1 ? 's' : ''} ` +
          `(history_limit ${changes.historyLimit})`,
      );
  }
  return pruneObjects(ctx, changes);
}

export function pruneObjects(ctx: ApplyContext, changes: ReleaseChanges): Promise<PruneOutcome> {
  return deleteObjects(ctx, changes.prune, 'pruned');
}

/** Every object in its group, the before gate, the own objects, the restarts, then the rollout wait. */
export async function applyChanges(ctx: ApplyContext, changes: ReleaseChanges): Promise<Applied> {
  const done: ObjectChange[] = [];
  // As applied (uid, generation): what the wait judges.
  const applied = new Map<string, KubeObject>();
  const applyOne = async (object: KubeObject) => {
    const { change, after } = await writeObject(ctx, changes, object);
    applied.set(objectRef(object), after);
    done.push({ ref: objectRef(object), change });
    ctx.log.info(`${objectRef(object)} ${change}`);
  };
  for (const group of changes.groups) await mapBounded(group, 8, applyOne);
  const gateMs = await passGate(ctx, changes, applied);
  await mapBounded(changes.own, 8, applyOne);
  const restarted = changes.restart ? await restartWorkloads(ctx, changes.restart, applied) : {};
  if (!changes.waitFor) return { changes: done, ...restarted };
  const { durationMs } = await waitFor(ctx, changes.waitFor, applied);
  return { changes: done, rolloutMs: gateMs + durationMs, ...restarted };
}

async function writeObject(
  ctx: ApplyContext,
  changes: ReleaseChanges,
  object: KubeObject,
): Promise<{ change: ObjectChange['change']; after: KubeObject }> {
  const { cluster, log } = ctx;
  const before = changes.live.get(objectRef(object));
  const write = (o: KubeObject) => (changes.write === 'create' ? cluster.create(o) : cluster.apply(o));
  if (isJob(object)) {
    // Immutable once created: replaced when changed, left alone when complete (src/engine/jobs.ts).
    const { deadline, clock, signal } = ctx;
    return putJob({ cluster, log, write, deadline, clock, ...(signal ? { signal } : {}) }, object, before);
  }
  const handover = changes.handover.get(objectRef(object));
  if (handover !== undefined) await handOverReplicas(cluster, object, handover, log);
  const after = await write(object);
  const change = !before
    ? 'created'
    : before.metadata.resourceVersion === after.metadata.resourceVersion
      ? 'unchanged'
      : 'configured';
  return { change, after };
}

/** The Jobs of phase "before" complete (ms waited), or the put stops before the app's own objects are applied. */
async function passGate(ctx: ApplyContext, changes: ReleaseChanges, applied: Map<string, KubeObject>) {
  const { gate, own } = changes;
  if (!gate.length) return 0;
  try {
    return (await waitFor(ctx, gate, applied)).durationMs;
  } catch (error) {
    if (own.length)
      ctx.log.info(
        `not applying ${own.map(objectRef).join(', ')}: ` +
          `${gate.map(objectRef).join(', ')} (phase before) did not complete`,
      );
    throw error;
  }
}

/** The one call of the rollout wait: these workloads, as applied, until the put's deadline. */
function waitFor(ctx: ApplyContext, workloads: KubeObject[], applied: Map<string, KubeObject>) {
  const { cluster, log, namespace, app, deadline } = ctx;
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
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(ctx.putStartedAt ? { putStartedAt: ctx.putStartedAt } : {}),
  });
}

/** The Pod-template annotation `kubectl rollout restart` writes: one key, whichever of the two restarted last. */
export const restartedAtAnnotation = 'kubectl.kubernetes.io/restartedAt';
/** Not the apply's field manager: the next apply neither owns the annotation nor removes it (no second rollout). */
export const restartFieldManager = 'kubernetes-deploy-resource-restart';

/**
 * restart: true — the time in a Pod-template annotation of each target, so that the controller rolls every Pod. The
 * patched object (its new generation) is what the wait then judges.
 */
async function restartWorkloads(
  ctx: ApplyContext,
  restart: NonNullable<ReleaseChanges['restart']>,
  applied: Map<string, KubeObject>,
): Promise<Pick<Applied, 'restartedAt'>> {
  const { cluster, log } = ctx;
  const { targets, created } = restart;
  // Milliseconds: two restarts within a second must still differ, or the second would change nothing.
  const restartedAt = new Date(ctx.clock.now()).toISOString();
  const patch = { spec: { template: { metadata: { annotations: { [restartedAtAnnotation]: restartedAt } } } } };
  await mapBounded(targets, 8, async (object) => {
    applied.set(objectRef(object), await cluster.mergePatch(keyOf(object), patch, restartFieldManager));
  });
  if (targets.length)
    log.info(`restarting ${targets.map(objectRef).join(', ')} (${restartedAtAnnotation}: ${restartedAt})`);
  if (created.length)
    log.info(`not restarting ${created.map(objectRef).join(', ')}: created by this put, just started`);
  return targets.length ? { restartedAt } : {};
}

/** What the server would make of each object (a server-side dry run), beside the object as it is; no write. */
export async function serverDryRun(ctx: ApplyContext, changes: ReleaseChanges, canAsk: boolean) {
  const { cluster } = ctx;
  return mapBounded(changes.objects, 8, async (desired) => {
    const ref = objectRef(desired);
    const live = changes.live.get(ref);
    // replicas: auto hands the count over before the apply (replicas.ts): the dry run shows it kept, not reset.
    const handover = changes.handover.get(ref);
    const asApplied = handover === undefined ? desired : { ...desired, spec: { ...desired.spec!, replicas: handover } };
    const dryRun = canAsk
      ? await (changes.write === 'create'
          ? cluster.create(desired, { dryRun: true })
          : cluster.apply(asApplied, { dryRun: true }))
      : undefined;
    return { ref, desired, ...(live ? { live } : {}), ...(dryRun ? { dryRun } : {}) };
  });
}

/** The refs a prune of the change set would delete now (a dry run's to_prune). */
export const wouldPrune = (ctx: ApplyContext, changes: ReleaseChanges) => prunableRefs(ctx, changes.prune);
