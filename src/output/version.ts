// The version and metadata Concourse shows for a put or get.
import type { Version } from '../request/schemas.js';

export interface MetadataField {
  name: string;
  value: string;
}
export interface VersionResponse {
  version: Version;
  metadata: MetadataField[];
}

export function metadataList(fields: Record<string, string | number | undefined>): MetadataField[] {
  return Object.entries(fields)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined && entry[1] !== '')
    .map(([name, value]) => ({ name, value: String(value) }));
}
