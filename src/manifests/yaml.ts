// Deterministic, kubectl-compatible YAML: stable key order, no server-set fields, YAML 1.1-safe quoting.
import { dump } from 'js-yaml';
import type { KubeObject } from '../kube/object.js';

const first = ['apiVersion', 'kind', 'metadata', 'name', 'namespace'];
function compareKeys(a: string, b: string): number {
  const ia = first.indexOf(a);
  const ib = first.indexOf(b);
  if (ia >= 0 || ib >= 0) return (ia < 0 ? first.length : ia) - (ib < 0 ? first.length : ib);
  return a < b ? -1 : a > b ? 1 : 0;
}

const serverSetMetadata = ['uid', 'resourceVersion', 'creationTimestamp', 'generation', 'managedFields', 'selfLink', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'ownerReferences'];

/** The object as a user would commit it: without status and the fields the server sets. */
export function stripServerFields(object: KubeObject): KubeObject {
  const { status: _status, ...rest } = object as KubeObject & { status?: unknown };
  const metadata = { ...rest.metadata };
  for (const key of serverSetMetadata) delete metadata[key];
  if (metadata.annotations) {
    const annotations = { ...metadata.annotations };
    delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
    delete annotations['deployment.kubernetes.io/revision'];
    if (Object.keys(annotations).length) metadata.annotations = annotations;
    else delete metadata.annotations;
  }
  return { ...rest, metadata };
}

/** A copy with every mapping's keys in our stable order (dump keeps insertion order). */
function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => compareKeys(a, b));
  return Object.fromEntries(entries.map(([k, v]) => [k, sortedKeys(v)]));
}

/** Multi-document YAML; strings YAML 1.1 would read as something else ("yes", "0777") are quoted for kubectl. */
export function toYaml(objects: KubeObject[]): string {
  return objects.map((object) => '---\n' + dump(sortedKeys(stripServerFields(object)), { lineWidth: -1, noRefs: true, quoteStyle: 'double' })).join('');
}
