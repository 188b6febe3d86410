// The put, as lock → state → plan → execute: what is there is read once (state.ts), every decision is taken on it
// (changes.ts), and apply.ts carries the change set out. A dry run plans on the same state and asks the server what
// it would make of each object; a rollback (on_failure) plans the last deployed revision on the objects as they are
// after the failed attempt; a redeploy is a put of a recorded revision's content.
import { ApiRejectedError, RolloutFailedError, TimedOutError } from '../errors.js';
import type { KubeObject } from '../kube/object.js';
import type { DeployOptions } from '../request/plan.js';
import type { Version } from '../request/schemas.js';
import {
  applyChanges,
  completePut,
  markFailed,
  pruneObjects,
  serverDryRun,
  throwIfRefused,
  wouldPrune,
  writeRecord,
  type Applied,
  type ObjectChange,
} from './apply.js';
import { planChanges } from './changes.js';
import { acquireReleaseLock, underLock } from './lock.js';
import { ensureNamespace, type ResourceScope } from './namespace.js';
import type { ReleaseContent } from './release.js';
import { nothingThere, readObjects, readState, type ReleaseState } from './state.js';
import type { ReleaseTarget } from './target.js';

// What a put's result is read with (output/put-metadata.ts), beside DeployResult.
export type { ReleaseContent } from './release.js';

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

export interface DeployResult extends Applied {
  version: Version;
  revision: number;
  /** True when the same release was already recorded and nothing new was recorded. */
  reused: boolean;
  changes: ObjectChange[];
  /** Objects deleted because this release no longer has them (or that would be, in a dry run). */
  pruned: string[];
  /** "ref (why)" of objects the prune should have deleted but could not (left in place, reported). */
  notPruned: string[];
  /** A dry run: each object as the server would make it, and the revision the put would record (same planner). */
  dryRun?: { objects: DryRunObject[]; revision: number };
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

async function deployLocked(input: DeployInput): Promise<DeployResult> {
  const { app, namespace, release } = input;
  const state = await readState(input, release.objects, { attempts: input.prune });
  const changes = planChanges(state, release, input);
  throwIfRefused(changes);
  await writeRecord(input, changes);
  let applied: Applied;
  try {
    applied = await applyChanges(input, changes);
  } catch (error) {
    // Whatever stopped the put (a failed rollout, a refused apply, an abort), the record says failed, never pending.
    await markFailed(input, changes);
    if (input.onFailure === 'rollback' && (error instanceof RolloutFailedError || error instanceof TimedOutError)) {
      await rollBack(input, state, error);
    }
    throw error;
  }
  // Only once the new release runs and is recorded so: what the releases since the last good one had and this one has
  // not is pruned.
  const { deleted: pruned, failed: notPruned } = await completePut(input, changes);
  const { revision, reused } = changes;
  const version: Version = { app, namespace, revision: String(revision), image: release.image.ref };
  return { version, revision, reused, ...applied, pruned, notPruned };
}

/**
 * After a failed rollout (on_failure: rollback): the last deployed revision's objects again, waited for on what is
 * left of the put's deadline, and whatever the failed attempt added pruned. Never throws: the put fails with the
 * original error either way, and the log says what the rollback did.
 */
async function rollBack(input: DeployInput, state: ReleaseState, cause: Error): Promise<void> {
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
    const now: ReleaseState = { ...state, ...(await readObjects(input.cluster, target.objects)) };
    const changes = planChanges(now, target, {
      ...input,
      wait: input.wait && canWait,
      rollbackFrom: input.release.objects,
    });
    throwIfRefused(changes);
    await applyChanges(input, changes);
    await pruneObjects(input, changes);
    log.info(
      `rolled back to revision ${target.revision}` +
        (canWait ? '' : ' (applied; its rollout was not waited for: the put timed out)'),
    );
  } catch (error) {
    log.warn(`could not roll back to revision ${target.revision}: ${(error as Error).message}`);
  }
}

/** The same state and plan as the put's, then a server-side dry-run apply of every object: nothing changes. */
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
  const state = ns ? await readState(input, release.objects, { attempts: input.prune }) : nothingThere();
  const changes = planChanges(state, release, input);
  throwIfRefused(changes);
  const objects = await serverDryRun(input, changes, Boolean(ns));
  // Only what a prune would delete now: still there, and still ours.
  const pruned = await wouldPrune(input, changes);
  const { lastDeployed } = state;
  const revision = lastDeployed?.revision ?? 0;
  return {
    version: { app, namespace, revision: String(revision), image: lastDeployed?.image.ref ?? '' },
    revision,
    reused: false,
    changes: [],
    pruned,
    notPruned: [],
    // The same decision as the put's on the same state: the revision it would take (or re-use).
    dryRun: { objects, revision: changes.revision },
  };
}
