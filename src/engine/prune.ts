// Prune: what the releases since the last good one had and the new one has not is deleted once the new one runs
// (kapp and Helm do the same). Only objects that still carry the release's ownership labels; others are reported.
import { ApiRejectedError } from '../errors.js';
import { isOurs } from '../kube/labels.js';
import { keyOf, objectRef, type KubeObject } from '../kube/object.js';
import { mapBounded } from './bounded.js';
import { recordRevision, recordStatus, tryDecodeRecord, type ReleaseRecord } from './records.js';
import type { ReleaseTarget } from './target.js';

/** Kind and name: an object that only changes apiVersion (v1beta1 → v1) is the same object on the server. */
const identity = (o: KubeObject) => objectRef(o);

/**
 * Objects of the last deployed revision, of every later revision that failed or was cut off, and of `alsoTried`
 * (a failed attempt not yet listed), that `keep` does not have.
 */
export function pruneCandidates(
  records: KubeObject[],
  lastDeployed: ReleaseRecord | undefined,
  keep: KubeObject[],
  alsoTried: KubeObject[] = [],
): KubeObject[] {
  const since = lastDeployed?.revision ?? 0;
  const tried = records
    .filter((r) => recordRevision(r) > since && recordStatus(r) !== 'deployed')
    .flatMap((r) => tryDecodeRecord(r)?.objects ?? []);
  const kept = new Set(keep.map(identity));
  const candidates = new Map<string, KubeObject>();
  for (const object of [...(lastDeployed?.objects ?? []), ...tried, ...alsoTried]) {
    if (!kept.has(identity(object))) candidates.set(identity(object), object);
  }
  return [...candidates.values()];
}

export interface PruneOutcome {
  /** Refs of the objects deleted (or, in a dry run, that would be). */
  deleted: string[];
  /** "ref (why)" of the objects that are still ours but could not be deleted (a 403, a kind the server lost). */
  failed: string[];
}

/**
 * The live objects among `objects` that a prune may delete: in the release's namespace (a kind the server calls
 * cluster-scoped is never one of a release's: a record naming one is not trusted), still there, and still ours.
 */
async function livePrunable(
  target: Pick<ReleaseTarget, 'cluster' | 'log' | 'namespace' | 'app'>,
  objects: KubeObject[],
): Promise<({ object: KubeObject; live: KubeObject } | { object: KubeObject; failed: string } | undefined)[]> {
  const { cluster, log, namespace, app } = target;
  return mapBounded(objects, 8, async (object) => {
    try {
      const namespaced = await cluster.isNamespaced(object.apiVersion, object.kind);
      if (namespaced === false) {
        log.warn(`${objectRef(object)} is cluster-scoped: a release holds only namespaced objects; left alone`);
        return undefined;
      }
      // Unknown to the server (its CustomResourceDefinition is gone): nothing of it can be left.
      if (namespaced === undefined) return undefined;
      const live = await cluster.read({ ...keyOf(object), namespace });
      if (!live) return undefined;
      if (!isOurs(live, app)) {
        log.warn(`${objectRef(object)} in namespace ${namespace} is not managed by release ${app}: left alone`);
        return undefined;
      }
      return { object, live };
    } catch (error) {
      if (!(error instanceof ApiRejectedError)) throw error;
      return { object, failed: `${objectRef(object)} (${error.message.split('\n')[0]})` };
    }
  });
}

/** The refs a prune of `objects` would delete now: those still there and ours (a dry run's to_prune). */
export async function prunableRefs(
  target: Pick<ReleaseTarget, 'cluster' | 'log' | 'namespace' | 'app'>,
  objects: KubeObject[],
): Promise<string[]> {
  return (await livePrunable(target, objects)).filter((p) => p && 'live' in p).map((p) => objectRef(p!.object));
}

/**
 * Deletes the objects that are still ours, a line each (only the object read: a uid precondition). One refused
 * delete does not stop the others: it is reported in `failed`, a warning each. Gone ones are skipped silently.
 */
export async function deleteObjects(
  target: Pick<ReleaseTarget, 'cluster' | 'log' | 'namespace' | 'app'>,
  objects: KubeObject[],
  verb: string,
): Promise<PruneOutcome> {
  const { cluster, log, namespace } = target;
  const found = await livePrunable(target, objects);
  const outcome: PruneOutcome = { deleted: [], failed: [] };
  await mapBounded(found, 8, async (item) => {
    if (!item) return;
    if ('failed' in item) {
      outcome.failed.push(item.failed);
      return;
    }
    const ref = objectRef(item.object);
    try {
      // Background: the put does not wait for a pruned workload's Pods; the garbage collector removes them.
      const uid = item.live.metadata.uid as string | undefined;
      await cluster.remove({ ...keyOf(item.object), namespace }, 'Background', uid ? { uid } : undefined);
      log.info(`${ref} ${verb}`);
      outcome.deleted.push(ref);
    } catch (error) {
      if (!(error instanceof ApiRejectedError)) throw error;
      outcome.failed.push(`${ref} (${error.message.split('\n')[0]})`);
    }
  });
  for (const line of outcome.failed) log.warn(`could not delete ${line}: left in place`);
  return outcome;
}
