// Release records: one Secret per revision holding the rendered object set (a Secret, because extra manifests may
// hold Secrets), as Helm keeps its releases: encoding and decoding, and the few reads and writes of records.
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { ClusterApi, ObjectMetadata } from '../cluster/api.js';
import { ApiRejectedError, BadRequestError } from '../errors.js';
import type { ImageRef } from '../manifests/image.js';
import { isOurs, labelKeys, managedBy, ourKey } from '../kube/labels.js';
import { keyOf, objectRef, type KubeObject } from '../kube/object.js';
import { maxRevision } from '../request/schemas.js';
import { mapBounded } from './bounded.js';

export const recordType = ourKey('release.v1');
export const recordLabel = {
  release: ourKey('release'),
  revision: ourKey('revision'),
  status: ourKey('status'),
} as const;
export const recordImageAnnotation = ourKey('image');
/**
 * When a put last targeted the release (ISO time): written with each record, and stamped again on the reused record by
 * a put that changes nothing. A sweep counts a release's age from it, from metadata alone.
 */
export const lastPutAnnotation = ourKey('last-put');
export type RecordStatus = 'pending' | 'deployed' | 'failed';

export interface ReleaseRecord {
  app: string;
  namespace: string;
  revision: number;
  image: ImageRef & { ref: string };
  objects: KubeObject[];
  url?: string;
  build: Record<string, string>;
  createdAt: string;
  /** Hash of image and objects: a put that renders the same release reuses its revision. */
  contentHash: string;
  /** The revision this one deployed again (params.revision). */
  redeployedFrom?: number;
}

// The API server refuses Secrets over 1 MiB; leave room for metadata.
export const maxRecordBytes = 1024 * 1024 - 16 * 1024;
/**
 * What a record may inflate to: far above any release (each object is at most ~1.5 MiB in etcd), far below what a
 * crafted gzip stream could make of 1 MiB (gigabytes in seconds). Writing a record checks the same bound.
 */
export const maxRecordJsonBytes = 16 * 1024 * 1024;

export function recordName(app: string, revision: number): string {
  return `kdr-release.${app}.v${revision}`;
}

export function contentHash(image: string, objects: KubeObject[]): string {
  return createHash('sha256').update(JSON.stringify({ image, objects })).digest('hex').slice(0, 32);
}

export function encodeRecord(record: ReleaseRecord, status: RecordStatus): KubeObject {
  const json = Buffer.from(JSON.stringify(record), 'utf8');
  if (json.length > maxRecordJsonBytes) {
    throw new BadRequestError(
      `the release is too large to record: ${Math.round(json.length / 1024 / 1024)} MiB of objects, ` +
        `at most ${maxRecordJsonBytes / 1024 / 1024} MiB (split params.manifests into another release)`,
    );
  }
  const payload = gzipSync(json).toString('base64');
  if (payload.length > maxRecordBytes) {
    throw new BadRequestError(
      `the release is too large to record: ${Math.round(payload.length / 1024)} KiB compressed, ` +
        `the limit of a Secret is ${Math.round(maxRecordBytes / 1024)} KiB ` +
        '(split params.manifests into another release)',
    );
  }
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    type: recordType,
    metadata: {
      name: recordName(record.app, record.revision),
      namespace: record.namespace,
      labels: {
        [labelKeys.name]: record.app,
        [labelKeys.instance]: record.app,
        [labelKeys.managedBy]: managedBy,
        [recordLabel.release]: record.app,
        [recordLabel.revision]: String(record.revision),
        [recordLabel.status]: status,
      },
      // check lists versions from the labels and this, without decoding every record.
      annotations: { [recordImageAnnotation]: record.image.ref, [lastPutAnnotation]: record.createdAt },
    },
    data: { release: payload },
  };
}

/**
 * Why a record's content cannot be trusted, checked against the Secret that holds it (whoever may write Secrets in the
 * namespace may write one): its app, namespace and revision are the Secret's, and every object it lists has the
 * shape of one, is pinned to the record's namespace and carries the release's ownership labels.
 */
function untrustedBecause(record: Partial<ReleaseRecord>, secret: KubeObject): string | undefined {
  const { labels = {}, namespace, name } = secret.metadata;
  const app = labels[recordLabel.release] ?? '';
  if ((secret as { type?: unknown }).type !== undefined && (secret as { type?: unknown }).type !== recordType)
    return `its type is not ${recordType}`;
  if (record.app !== app) return `it names app ${JSON.stringify(record.app)}, its labels ${JSON.stringify(app)}`;
  if (record.namespace !== namespace) return `it names namespace ${JSON.stringify(record.namespace)}`;
  if (!validRevision(record.revision) || String(record.revision) !== labels[recordLabel.revision])
    return `it names revision ${JSON.stringify(record.revision)}, its labels ${labels[recordLabel.revision] ?? 'none'}`;
  if (name !== recordName(app, record.revision)) return `its name is not ${recordName(app, record.revision)}`;
  for (const [i, o] of (record.objects as unknown[]).entries()) {
    const object = o as Partial<KubeObject> | null;
    const meta = object?.metadata;
    if (
      typeof object !== 'object' ||
      object === null ||
      typeof object.apiVersion !== 'string' ||
      typeof object.kind !== 'string' ||
      typeof meta !== 'object' ||
      meta === null ||
      typeof meta.name !== 'string'
    )
      return `objects[${i}] is not a Kubernetes object`;
    const ref = objectRef(object as KubeObject);
    if (meta.namespace !== namespace) return `${ref} names namespace ${JSON.stringify(meta.namespace ?? '')}`;
    if (!isOurs(object as KubeObject, app)) return `${ref} does not carry the ownership labels of release ${app}`;
  }
  return undefined;
}

const validRevision = (n: unknown): n is number =>
  Number.isInteger(n) && (n as number) >= 1 && (n as number) <= maxRevision;

/**
 * The record a Secret holds; a Secret changed by hand, cut short, or whose content does not match it is refused
 * (exit 4) with what to do about it. Inflating is bounded (maxRecordJsonBytes).
 */
export function decodeRecord(secret: KubeObject): ReleaseRecord {
  const where = `secret/${secret.metadata.name} in namespace ${secret.metadata.namespace ?? ''}`;
  const payload = (secret as { data?: { release?: unknown } }).data?.release;
  let record: Partial<ReleaseRecord> | undefined;
  let why: string | undefined;
  try {
    if (typeof payload === 'string' && payload && payload.length <= 2 * maxRecordBytes) {
      const json = gunzipSync(Buffer.from(payload, 'base64'), { maxOutputLength: maxRecordJsonBytes });
      record = JSON.parse(json.toString('utf8')) as Partial<ReleaseRecord>;
    }
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE')
      why = `data.release inflates to more than ${maxRecordJsonBytes / 1024 / 1024} MiB`;
    record = undefined;
  }
  const valid =
    record !== undefined &&
    record !== null &&
    typeof record === 'object' &&
    typeof record.revision === 'number' &&
    Array.isArray(record.objects) &&
    typeof record.image?.ref === 'string' &&
    typeof record.app === 'string';
  if (!valid) {
    throw new ApiRejectedError(
      `${where} is not a readable release record (${why ?? 'data.release is missing or corrupt'}); ` +
        'delete it or restore it from a backup',
      422,
    );
  }
  const untrusted = untrustedBecause(record!, secret);
  if (untrusted)
    throw new ApiRejectedError(
      `${where} is not a release record this resource wrote (${untrusted}); nothing of it is used: ` +
        'delete it, and ask who can write Secrets in the namespace',
      422,
    );
  return record as ReleaseRecord;
}

/** The record, or undefined when it cannot be read (callers that can do without it, e.g. reuse detection). */
export function tryDecodeRecord(secret: KubeObject): ReleaseRecord | undefined {
  try {
    return decodeRecord(secret);
  } catch {
    return undefined;
  }
}

export function recordStatus(secret: Pick<KubeObject, 'metadata'>): RecordStatus | undefined {
  return secret.metadata.labels?.[recordLabel.status] as RecordStatus | undefined;
}

export function recordRevision(secret: Pick<KubeObject, 'metadata'>): number {
  return Number(secret.metadata.labels?.[recordLabel.revision] ?? NaN);
}

/** Record selector for one app, optionally only one status. */
export function recordSelector(app: string, status?: RecordStatus): string {
  return `${recordLabel.release}=${app}${status ? `,${recordLabel.status}=${status}` : ''}`;
}

/**
 * A Secret whose labels and name say the same: a record of `app` (our managed-by), revision N in 1..maxRevision,
 * named kdr-release.APP.vN. Anything else (a Secret labelled by hand, a name that does not match) is not listed as a
 * record: check never reports it, no put counts it. Metadata only: a list without data can tell.
 */
export function isWellFormedRecord(secret: ObjectMetadata, app: string): boolean {
  const labels = secret.metadata.labels ?? {};
  const revision = labels[recordLabel.revision] ?? '';
  return (
    labels[recordLabel.release] === app &&
    labels[labelKeys.managedBy] === managedBy &&
    /^[1-9][0-9]{0,8}$/.test(revision) &&
    secret.metadata.name === recordName(app, Number(revision))
  );
}

/**
 * Every well-formed record of the app in the namespace, oldest revision first, as metadata only (revision, status,
 * image): its cost does not grow with the releases' size. What a caller decodes, it reads with readRecordSecrets.
 */
export async function listRecords(cluster: ClusterApi, namespace: string, app: string): Promise<ObjectMetadata[]> {
  const { items } = await cluster.listMetadata('v1', 'Secret', namespace, recordSelector(app));
  return items.filter((r) => isWellFormedRecord(r, app)).sort((a, b) => recordRevision(a) - recordRevision(b));
}

/**
 * ms since epoch of the last put that targeted this record's release: its stamp, or, on a record written before stamps
 * existed, when it was created. (Who may write the Secret may backdate the stamp: a sweep would then take a namespace
 * whose every object that writer could delete anyway.)
 */
export function lastPutOf(secret: ObjectMetadata): number | undefined {
  for (const t of [secret.metadata.annotations?.[lastPutAnnotation], secret.metadata.creationTimestamp]) {
    const ms = typeof t === 'string' ? Date.parse(t) : NaN;
    if (Number.isFinite(ms)) return ms;
  }
  return undefined;
}

/**
 * The whole Secrets of these listed records, a read each, in the same order. One deleted since, or replaced by
 * another object of its name (another uid), is left out: only what was listed is decoded.
 */
export async function readRecordSecrets(cluster: ClusterApi, listed: readonly ObjectMetadata[]): Promise<KubeObject[]> {
  const read = await mapBounded(listed, 4, async (r) => {
    const secret = await cluster.read(keyOf(r));
    return secret && secret.metadata.uid === r.metadata.uid ? secret : undefined;
  });
  return read.filter((secret): secret is KubeObject => secret !== undefined);
}

export function recordKey(namespace: string, app: string, revision: number) {
  return { apiVersion: 'v1', kind: 'Secret', namespace, name: recordName(app, revision) };
}

export function markRecord(
  cluster: ClusterApi,
  namespace: string,
  app: string,
  revision: number,
  status: 'deployed' | 'failed',
): Promise<KubeObject> {
  return cluster.patchMetadata(recordKey(namespace, app, revision), { labels: { [recordLabel.status]: status } });
}
