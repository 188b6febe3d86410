// The put with `delete: true`: delete every object carrying the release's ownership labels, wait until they (and
// their Pods) are gone, then the claims made from its StatefulSets' volumeClaimTemplates (unless keep_volumes), then
// the release records, then the namespace if we created it.
import { ApiRejectedError } from '../errors.js';
import type { ClusterApi } from '../cluster/api.js';
import { isOurs, labelKeys, managedBy, releaseSelector } from '../kube/labels.js';
import { keyOf, objectRef, type KubeObject } from '../kube/object.js';
import { mapBounded } from './bounded.js';
import { waitUntilGone, type GoneWait } from './gone.js';
import { acquireReleaseLock, underLock } from './lock.js';
import { createdByUs } from './namespace.js';
import { decodeRecord, listRecords, readRecordSecrets, recordLabel, recordStatus, recordType } from './records.js';
import type { ReleaseTarget } from './target.js';
import { kindOf } from './ownership.js';

export interface TeardownInput extends ReleaseTarget {
  deleteNamespace: boolean;
  /** Leave the PersistentVolumeClaims made from the release's StatefulSets' volumeClaimTemplates in place. */
  keepVolumes?: boolean;
  /** How often to look again while waiting for objects to go. */
  pollMs?: number;
  /**
   * Asked under the release lock before anything is deleted, with the lock holder's cluster: a reason to leave the
   * release alone after all (a sweep's age and ownership, checked again), or undefined to go on.
   */
  recheck?: (cluster: ClusterApi) => Promise<string | undefined>;
}

export interface TeardownResult {
  deleted: string[];
  leftAlone: string[];
  /** Claims of the release's StatefulSets left in place (keep_volumes). */
  keptVolumes: string[];
  /** The newest recorded revision and image before the teardown, for the version. */
  lastRevision?: number;
  lastImage?: string;
  namespaceDeleted: boolean;
  /** Why the release was left alone after all (recheck). */
  skipped?: string;
}

const defaultKinds = [
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
];

const uidOf = (o: KubeObject) => (typeof o.metadata.uid === 'string' ? { uid: o.metadata.uid } : undefined);

const ownsDependents = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob']);

export async function teardownRelease(input: TeardownInput): Promise<TeardownResult> {
  const { cluster, log, namespace, app } = input;
  const gone = (): TeardownResult => {
    log.info(`namespace ${namespace} does not exist: release ${app} is already gone`);
    return { deleted: [], leftAlone: [], keptVolumes: [], namespaceDeleted: false };
  };
  // The namespace object matters only to delete_namespace (who created it?); otherwise the lock tells a missing one.
  if (input.deleteNamespace && !(await cluster.read(namespaceKey(namespace)))) return gone();

  let lock;
  try {
    lock = await acquireReleaseLock(input);
  } catch (error) {
    if (error instanceof ApiRejectedError && error.status === 404) return gone();
    throw error;
  }
  let result: TeardownResult;
  let namespaceGoing = false;
  try {
    const held = underLock(input, lock);
    // What was decided before the lock (a sweep's "old enough, and ours") is decided again now that nothing can
    // change under us: a put that came in between keeps its release.
    const why = input.recheck ? await input.recheck(held.cluster) : undefined;
    if (why) {
      log.info(`release ${app} in namespace ${namespace} left alone: ${why}`);
      return { deleted: [], leftAlone: [], keptVolumes: [], namespaceDeleted: false, skipped: why };
    }
    result = await teardownLocked(held);
    // Under the lock too: no put of this app can start in the namespace between the last check and the delete.
    if (input.deleteNamespace) namespaceGoing = await startNamespaceDeletion(held);
  } finally {
    await lock.release();
  }
  if (namespaceGoing) result.namespaceDeleted = await waitForNamespace(input);
  return result;
}

const namespaceKey = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', name });

type KindRef = { apiVersion: string; kind: string };

async function teardownLocked(input: TeardownInput): Promise<TeardownResult> {
  const { cluster, log, namespace, app } = input;
  // Every record is used here (the kinds and names it lists): each is read whole, one request each.
  const records = await readRecordSecrets(cluster, await listRecords(cluster, namespace, app));
  const recorded = readRecords(input, records);
  const { kinds, recordedNames } = recorded;
  await keepNamespacedKinds(input, kinds);
  for (const [ref, o] of recordedNames) if (!kinds.has(kindOf(o))) recordedNames.delete(ref);
  const listOurs = releaseLister(input);

  const ours = await listOurs([...kinds.values()]);
  const leftAlone = await foreignNamesakes(input, ours, recordedNames);
  await mapBounded(ours, 8, async (object) => {
    // Foreground where there are dependents to wait for (the ReplicaSets and Pods of a workload); other kinds go at
    // once, without a round through the garbage collector.
    // Only the object listed (its uid): one created in its place meanwhile is not deleted unseen.
    const gone = !(await cluster.remove(
      keyOf(object),
      ownsDependents.has(object.kind) ? 'Foreground' : 'Background',
      uidOf(object),
    ));
    log.info(`${objectRef(object)} ${gone ? 'already gone' : 'deleted'}`);
  });

  // Wait until the objects and their Pods are gone (foreground deletion keeps the owner until its dependents go).
  // Only kinds we deleted something of can still hold some (we hold the lock: nothing new of ours appears), and Pods.
  const deletedKinds = new Set(ours.map(kindOf));
  const waitKinds = [
    ...[...kinds.values()].filter((k) => deletedKinds.has(kindOf(k))),
    { apiVersion: 'v1', kind: 'Pod' },
  ];
  await waitUntilGone(
    objectWait(input),
    () => listOurs(waitKinds),
    (left) => `waiting for release ${app} to be deleted: ${left.map(objectRef).join(', ')} still there`,
  );

  // The StatefulSets' Pods are gone: their claims are no longer in use (the pvc-protection finalizer lets them go).
  // StatefulSets from the records too: a teardown cut off earlier has deleted them but maybe not their claims.
  const statefulSets = [...ours, ...recordedNames.values()].filter(
    (o) => o.kind === 'StatefulSet' && !leftAlone.includes(objectRef(o)),
  );
  const claimRefs = await removeClaims(input, statefulSets);
  await mapBounded(records, 4, (r) =>
    cluster.remove(keyOf({ ...r, apiVersion: 'v1', kind: 'Secret' }), 'Background', uidOf(r)),
  );
  if (records.length) log.info(`deleted ${records.length} release record${records.length > 1 ? 's' : ''} of ${app}`);

  const keptVolumes = input.keepVolumes ? claimRefs : [];
  const deleted = [...ours.map(objectRef), ...(input.keepVolumes ? [] : claimRefs)];
  const { lastRevision, lastImage } = recorded;
  return { deleted, leftAlone, keptVolumes, lastRevision, lastImage, namespaceDeleted: false };
}

interface RecordedRelease {
  /** Kinds to look in: ours, plus every kind any record of the app lists (extra manifests). */
  kinds: Map<string, KindRef>;
  /** The objects the records list, by reference. */
  recordedNames: Map<string, KubeObject>;
  lastRevision?: number;
  lastImage?: string;
}

/** What the release's records say: the kinds and objects they list, and the release a teardown's version names. */
function readRecords(input: TeardownInput, records: KubeObject[]): RecordedRelease {
  const recorded: RecordedRelease = {
    kinds: new Map(defaultKinds.map((k) => [kindOf(k), k])),
    recordedNames: new Map(),
  };
  // The version of a teardown names the release it removed: the newest deployed one (a failed attempt since, rolled
  // back or not, never was a release to promote), or the newest record when none was deployed.
  let lastWasDeployed = false;
  for (const secret of records) {
    try {
      const record = decodeRecord(secret);
      const deployed = recordStatus(secret) === 'deployed';
      if (deployed || !lastWasDeployed) {
        recorded.lastRevision = record.revision;
        recorded.lastImage = record.image.ref;
        lastWasDeployed = deployed;
      }
      for (const o of record.objects) {
        recorded.kinds.set(kindOf(o), { apiVersion: o.apiVersion, kind: o.kind });
        recorded.recordedNames.set(objectRef(o), o);
      }
    } catch {
      input.log.warn(
        `secret/${secret.metadata.name} is not a readable release record; its objects are found by label only`,
      );
    }
  }
  return recorded;
}

/**
 * A record names kinds, but only namespaced ones can be the release's: a kind the server calls cluster-scoped (a
 * forged record's ClusterRoleBinding) is never listed, cluster-wide or anywhere; one it no longer knows (its
 * CustomResourceDefinition uninstalled) has nothing left to delete. Drops the others from `kinds`.
 */
async function keepNamespacedKinds(input: TeardownInput, kinds: Map<string, KindRef>): Promise<void> {
  const { cluster, log } = input;
  const scoped = await mapBounded([...kinds.entries()], 4, async ([key, k]) => {
    if (defaultKinds.some((d) => kindOf(d) === key)) return true;
    const namespaced = await cluster.isNamespaced(k.apiVersion, k.kind);
    if (namespaced === false)
      log.warn(`kind ${k.kind} (${k.apiVersion}) named by a record is cluster-scoped, never a release's: ignored`);
    if (namespaced === undefined)
      log.info(
        `kind ${k.kind} (${k.apiVersion}) named by a record is not known to the server: nothing of it to delete`,
      );
    return namespaced === true;
  });
  [...kinds.keys()].forEach((key, i) => {
    if (!scoped[i]) kinds.delete(key);
  });
}

/** Lists the release's objects of some kinds, without its records (deleted last, once all they describe is gone). */
function releaseLister(input: TeardownInput): (of: KindRef[]) => Promise<KubeObject[]> {
  const { cluster, namespace, app } = input;
  const selector = releaseSelector(app);
  // Secrets without the records: read already, they would be sent whole again.
  const fields = (k: KindRef) => (k.kind === 'Secret' ? `type!=${recordType}` : undefined);
  return async (of) =>
    (
      await mapBounded(of, 4, (k) =>
        cluster.list(k.apiVersion, k.kind, namespace, selector, fields(k)).then((l) => l.items),
      )
    )
      .flat()
      .filter((o) => isOurs(o, app) && (o as { type?: string }).type !== recordType);
}

/** Objects that have a release object's name but not our labels: reported (warned about), never touched. */
async function foreignNamesakes(
  input: TeardownInput,
  ours: KubeObject[],
  recordedNames: Map<string, KubeObject>,
): Promise<string[]> {
  const { cluster, log, namespace, app } = input;
  const ourRefs = new Set(ours.map(objectRef));
  const candidates = [
    ...recordedNames.values(),
    ...defaultKinds.map((k) => ({ ...k, metadata: { name: app, namespace } }) as KubeObject),
  ];
  const foreign = await mapBounded(
    candidates.filter((c) => !ourRefs.has(objectRef(c))),
    4,
    async (c) => {
      const found = await cluster.read({ ...keyOf(c), namespace });
      return found && !isOurs(found, app) ? objectRef(c) : undefined;
    },
  );
  const leftAlone = [...new Set(foreign.filter((f): f is string => f !== undefined))];
  for (const ref of leftAlone)
    log.warn(`${ref} in namespace ${namespace} is not managed by release ${app}: left alone`);
  return leftAlone;
}

/** Deletes the claims of these StatefulSets and waits until they are gone, or keeps them (keep_volumes). */
async function removeClaims(input: TeardownInput, statefulSets: KubeObject[]): Promise<string[]> {
  const { cluster, log, namespace, app } = input;
  const claims = await claimsOf(input, statefulSets);
  const claimRefs = claims.map(objectRef);
  if (claims.length && input.keepVolumes) {
    log.info(
      `keeping ${claims.length} volume claim${claims.length > 1 ? 's' : ''} of the release's StatefulSets ` +
        `(keep_volumes: true): ${claimRefs.join(', ')}`,
    );
  } else if (claims.length) {
    await mapBounded(claims, 8, async (claim) => {
      const gone = !(await cluster.remove(keyOf(claim), 'Background', uidOf(claim)));
      log.info(`${objectRef(claim)} ${gone ? 'already gone' : 'deleted'} (volume claim of a StatefulSet)`);
    });
    const claimNames = new Set(claims.map((c) => c.metadata.name));
    await waitUntilGone(
      objectWait(input),
      async () =>
        (await cluster.list('v1', 'PersistentVolumeClaim', namespace)).items.filter((c) =>
          claimNames.has(c.metadata.name),
        ),
      (left) =>
        `waiting for the volume claims of release ${app} to be deleted: ` +
        `${left.map(objectRef).join(', ')} still there ` +
        '(the kubernetes.io/pvc-protection finalizer keeps a claim while a Pod uses it)',
    );
  }
  return claimRefs;
}

/** Waiting for objects in a teardown: a line when what is left changes; a look soon at first, then every second. */
const objectWait = ({ deadline, clock, signal, pollMs, log }: TeardownInput): GoneWait => ({
  deadline,
  clock,
  signal,
  pollMs: pollMs ?? 200,
  maxPollMs: 1000,
  progress: log,
});

type StatefulSetSpec = {
  selector?: { matchLabels?: Record<string, string> };
  volumeClaimTemplates?: { metadata?: { name?: string } }[];
};

/**
 * The claims the StatefulSet controller made from these StatefulSets' volumeClaimTemplates, in the release's namespace:
 * named `<template>-<statefulset>-<ordinal>` and labelled with the StatefulSet's selector labels.
 */
async function claimsOf(input: TeardownInput, statefulSets: KubeObject[]): Promise<KubeObject[]> {
  const found = new Map<string, KubeObject>();
  for (const sts of statefulSets) {
    const spec = (sts.spec ?? {}) as StatefulSetSpec;
    const templates = (spec.volumeClaimTemplates ?? [])
      .map((t) => t.metadata?.name)
      .filter((n): n is string => typeof n === 'string');
    if (!templates.length) continue;
    const selector = Object.entries(spec.selector?.matchLabels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const { items } = await input.cluster.list('v1', 'PersistentVolumeClaim', input.namespace, selector || undefined);
    for (const claim of items) {
      const made = templates.some(
        (t) =>
          claim.metadata.name.startsWith(`${t}-${sts.metadata.name}-`) &&
          /^[0-9]+$/.test(claim.metadata.name.slice(`${t}-${sts.metadata.name}-`.length)),
      );
      // Claims that are the release's own objects (extra manifests) were deleted with the rest.
      if (made && !isOurs(claim, input.app)) found.set(claim.metadata.name, claim);
    }
  }
  return [...found.values()];
}

/**
 * Starts deleting the namespace, only when this resource created it for this app (read again now, and deleted only
 * as read: a uid precondition) and no other app of the resource has a release there (its records say).
 */
async function startNamespaceDeletion(input: TeardownInput): Promise<boolean> {
  const { cluster, log, namespace, app } = input;
  const ns = await cluster.read(namespaceKey(namespace));
  if (!ns) return false;
  if (!createdByUs(ns, app)) {
    log.warn(
      `namespace ${namespace} was not created by this resource for ${app}: left in place ` +
        '(delete_namespace only deletes namespaces it created)',
    );
    return false;
  }
  const others = await otherApps(cluster, namespace, app);
  if (others.length) {
    log.warn(
      `namespace ${namespace} also holds ${others.map((a) => `release ${a}`).join(', ')} of this resource: ` +
        'left in place (delete_namespace only deletes a namespace no other app deploys to)',
    );
    return false;
  }
  const uid = ns.metadata.uid as string | undefined;
  await cluster.remove(namespaceKey(namespace), 'Foreground', uid ? { uid } : undefined);
  log.info(`deleting namespace ${namespace}`);
  return true;
}

/** The other apps of this resource with a record in the namespace (any record: a doubtful one counts too). */
export async function otherApps(cluster: ClusterApi, namespace: string, app: string): Promise<string[]> {
  const { items } = await cluster.list(
    'v1',
    'Secret',
    namespace,
    `${recordLabel.release},${labelKeys.managedBy}=${managedBy}`,
  );
  const apps = items.map((r) => r.metadata.labels?.[recordLabel.release] ?? '').filter((a) => a && a !== app);
  return [...new Set(apps)].sort();
}

/** Waits until the namespace whose deletion this teardown started is gone. */
async function waitForNamespace(input: TeardownInput): Promise<boolean> {
  const { cluster, log, namespace, deadline, clock, signal } = input;
  const pollMs = input.pollMs ?? 1000;
  await waitUntilGone(
    // Every pause alike: a namespace goes once everything in it has gone, seldom within a second.
    { deadline, clock, signal, pollMs, maxPollMs: pollMs },
    async () => {
      const current = await cluster.read(namespaceKey(namespace));
      return current ? [current] : [];
    },
    () => `waiting for namespace ${namespace} to be deleted`,
  );
  log.info(`namespace ${namespace} deleted`);
  return true;
}
