// Release records: one Secret per revision holding the rendered object set (a Secret, because extra manifests may
// hold Secrets), as Helm keeps its releases. Pure encoding/decoding here; reading and writing in release-store.ts.
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { BadRequestError } from '../errors.js';
import type { ImageRef } from '../manifests/image.js';
import { labelKeys, managedBy, type KubeObject } from '../manifests/types.js';

export const recordType = 'kubernetes-deploy-resource.io/release.v1';
export const recordLabel = {
  release: 'kubernetes-deploy-resource.io/release',
  revision: 'kubernetes-deploy-resource.io/revision',
  status: 'kubernetes-deploy-resource.io/status',
} as const;
export const recordImageAnnotation = 'kubernetes-deploy-resource.io/image';
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
      `the release is too large to record: ${Math.round(payload.length / 1024)} KiB compressed, the limit of a Secret is ${Math.round(maxRecordBytes / 1024)} KiB (split params.manifests into another release)`,
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

export function decodeRecord(secret: KubeObject): ReleaseRecord {
  const payload = (secret as { data?: { release?: string } }).data?.release;
  if (!payload) throw new Error(`secret/${secret.metadata.name} is not a release record (no data.release)`);
  return JSON.parse(gunzipSync(Buffer.from(payload, 'base64')).toString('utf8')) as ReleaseRecord;
}

export function recordStatus(secret: KubeObject): RecordStatus | undefined {
  return secret.metadata.labels?.[recordLabel.status] as RecordStatus | undefined;
}

export function recordRevision(secret: KubeObject): number {
  return Number(secret.metadata.labels?.[recordLabel.revision] ?? NaN);
}

/** Record selector for one app, optionally only one status. */
export function recordSelector(app: string, status?: RecordStatus): string {
  return `${recordLabel.release}=${app}${status ? `,${recordLabel.status}=${status}` : ''}`;
}
