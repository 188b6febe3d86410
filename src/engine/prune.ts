// Prune: what the releases since the last good one had and the new one has not is deleted once the new one runs
// (kapp and Helm do the same). Only objects that still carry the release's ownership labels; others are reported.
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

/** Deletes the objects that are still ours, a line each; returns their refs. Gone ones are skipped silently. */
export async function deleteObjects(
  target: Pick<ReleaseTarget, 'cluster' | 'log' | 'namespace' | 'app'>,
  objects: KubeObject[],
  verb: string,
): Promise<string[]> {
  const { cluster, log, namespace, app } = target;
  const done = await mapBounded(objects, 8, async (object) => {
    const key = { ...keyOf(object), namespace };
    const live = await cluster.read(key);
    if (!live) return undefined;
    if (!isOurs(live, app)) {
      log.warn(`${objectRef(object)} in namespace ${namespace} is not managed by release ${app}: left alone`);
      return undefined;
    }
    // Background: the put does not wait for a pruned workload's Pods; the garbage collector removes them.
    await cluster.remove(key, 'Background');
    log.info(`${objectRef(object)} ${verb}`);
    return objectRef(object);
  });
  return done.filter((ref): ref is string => ref !== undefined);
}
