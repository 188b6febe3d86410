// What is there, read once before a put decides anything (kapp's "calculate the change set" reads the same way): the
// kinds the server knows, the release's objects as they are now, and the release's records. Reads only: every
// decision is taken on this state by changes.ts.
import type { ClusterApi, ObjectMetadata } from '../cluster/api.js';
import { keyOf, objectRef, type KubeObject } from '../kube/object.js';
import { mapBounded } from './bounded.js';
import { kindOf } from './ownership.js';
import {
  listRecords,
  readRecordSecrets,
  recordRevision,
  recordStatus,
  tryDecodeRecord,
  type ReleaseRecord,
} from './records.js';
import type { ReleaseTarget } from './target.js';

export interface ObjectState {
  /**
   * For each kind of the objects (`apiVersion/kind`): namespaced or not, undefined when the server does not know it.
   * Absent when not asked: a dry run into a namespace that does not exist yet.
   */
  kinds?: ReadonlyMap<string, boolean | undefined>;
  /** The objects that exist now, by ref. */
  live: ReadonlyMap<string, KubeObject>;
}

export interface RecordState {
  /** The release's records, oldest first (metadata: revision and status). */
  records: ObjectMetadata[];
  /** The newest revision that rolled out, decoded (what is live, and what a rollback goes back to). */
  lastDeployed?: ReleaseRecord;
  /** The records of the attempts after it (failed, cut off), whole: read only when a prune will need them. */
  attempts: KubeObject[];
}

export type ReleaseState = ObjectState & RecordState;

/** Nothing there: a namespace that does not exist yet holds no object and no record. */
export const nothingThere = (): ReleaseState => ({ live: new Map(), records: [], attempts: [] });

/** Independent reads, at once: the objects (kinds, then the objects themselves) and the records. */
export async function readState(
  target: Pick<ReleaseTarget, 'cluster' | 'namespace' | 'app'>,
  objects: KubeObject[],
  options: { attempts: boolean },
): Promise<ReleaseState> {
  const { cluster, namespace, app } = target;
  const [objectState, recordState] = await Promise.all([
    readObjects(cluster, objects),
    readRecordState(cluster, namespace, app, options.attempts),
  ]);
  return { ...objectState, ...recordState };
}

/**
 * The kinds of `objects` as the server knows them, and each object as it is now. Nothing is read of a release that
 * holds a kind the server cannot keep in a namespace: that release is refused whatever is there.
 */
export async function readObjects(cluster: ClusterApi, objects: KubeObject[]): Promise<ObjectState> {
  const distinct = [...new Map(objects.map((o) => [kindOf(o), o])).values()];
  const namespaced = await mapBounded(distinct, 8, (o) => cluster.isNamespaced(o.apiVersion, o.kind));
  const kinds = new Map(distinct.map((o, i) => [kindOf(o), namespaced[i]]));
  if (namespaced.some((n) => n !== true)) return { kinds, live: new Map() };
  const found = await mapBounded(objects, 8, (o) => cluster.read(keyOf(o)));
  const live = new Map<string, KubeObject>();
  objects.forEach((o, i) => {
    const current = found[i];
    if (current) live.set(objectRef(o), current);
  });
  return { kinds, live };
}

/** The records (metadata), the last deployed one decoded, and with `withAttempts` the attempts since it, whole. */
export async function readRecordState(
  cluster: ClusterApi,
  namespace: string,
  app: string,
  withAttempts: boolean,
): Promise<RecordState> {
  const records = await listRecords(cluster, namespace, app);
  const deployed = records.filter((r) => recordStatus(r) === 'deployed').at(-1);
  const [deployedSecret] = deployed ? await readRecordSecrets(cluster, [deployed]) : [];
  const lastDeployed = deployedSecret ? tryDecodeRecord(deployedSecret) : undefined;
  // Counted from the decoded record: when it cannot be read, every attempt is one since.
  const since = lastDeployed?.revision ?? 0;
  const attempts = withAttempts
    ? await readRecordSecrets(
        cluster,
        records.filter((r) => recordRevision(r) > since && recordStatus(r) !== 'deployed'),
      )
    : [];
  return { records, attempts, ...(lastDeployed ? { lastDeployed } : {}) };
}
