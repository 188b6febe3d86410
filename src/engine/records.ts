// Release records: one Secret per revision holding the rendered object set (a Secret, because extra manifests may
// hold Secrets), as Helm keeps its releases: encoding and decoding, and the few reads and writes of records.
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { ClusterApi, ObjectMetadata } from '../cluster/api.js';
import { ApiRejectedError, BadRequestError } from '../errors.js';
import type { ImageRef } from '../manifests/image.js';
import { labelKeys, managedBy, ourKey } from '../kube/labels.js';
import { keyOf, type KubeObject } from '../kube/object.js';
import { mapBounded } from './bounded.js';

export const recordType = ourKey('release.v1');
export const recordLabel = {
  release: ourKey('release'),
  revision: ourKey('revision'),
  status: ourKey('status'),
} as const;
export const recordImageAnnotation = ourKey('image');
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

export function recordName(app: string, revision: number): string {
  return `kdr-release.${app}.v${revision}`;
}

export function contentHash(image: string, objects: KubeObject[]): string {
  return createHash('sha256').update(JSON.stringify({ image, objects })).digest('hex').slice(0, 32);
}

export function encodeRecord(record: ReleaseRecord, status: RecordStatus): KubeObject {
  const payload = gzipSync(Buffer.from(JSON.stringify(record), 'utf8')).toString('base64');
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
      annotations: { [recordImageAnnotation]: record.image.ref },
    },
    data: { release: payload },
  };
}

/** The record a Secret holds; a Secret changed by hand or cut short is refused (exit 4) with what to do about it. */
export function decodeRecord(secret: KubeObject): ReleaseRecord {
  const where = `secret/${secret.metadata.name} in namespace ${secret.metadata.namespace ?? ''}`;
  const payload = (secret as { data?: { release?: unknown } }).data?.release;
  let record: Partial<ReleaseRecord> | undefined;
  try {
    if (typeof payload === 'string' && payload)
      record = JSON.parse(gunzipSync(Buffer.from(payload, 'base64')).toString('utf8')) as Partial<ReleaseRecord>;
  } catch {
    record = undefined;
  }
  const valid =
    record !== undefined &&
    typeof record === 'object' &&
    typeof record.revision === 'number' &&
    Array.isArray(record.objects) &&
    typeof record.image?.ref === 'string' &&
    typeof record.app === 'string';
  if (!valid) {
    throw new ApiRejectedError(
      `${where} is not a readable release record (data.release is missing or corrupt); ` +
        'delete it or restore it from a backup',
      422,
    );
  }
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
 * Every record of the app in the namespace, oldest revision first, as metadata only (revision, status, image): its
 * cost does not grow with the releases' size. What a caller decodes, it reads with readRecordSecrets.
 */
export async function listRecords(cluster: ClusterApi, namespace: string, app: string): Promise<ObjectMetadata[]> {
  const { items } = await cluster.listMetadata('v1', 'Secret', namespace, recordSelector(app));
  return items.sort((a, b) => recordRevision(a) - recordRevision(b));
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
