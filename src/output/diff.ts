// What a dry run shows: per object, a unified diff of the live object against the server's dry-run result.
// Pure: the caller does the dry-run apply and the reads, and prints the lines.
import { structuredPatch } from 'diff';
import { objectRef, type KubeObject } from '../kube/object.js';
import { stripServerFields, toYaml } from '../manifests/yaml.js';

export type ObjectChange = 'created' | 'changed' | 'unchanged';
export type SecretKeyChange = 'changed' | 'unchanged' | 'added' | 'removed';

export interface ObjectDiff {
  /** `deployment/web` */
  ref: string;
  change: ObjectChange;
  /** A unified diff (`---`, `+++`, `@@` hunks with 3 lines of context); for a Secret then `data.KEY: …` per key.
   *  Empty when unchanged: there is nothing to show. */
  lines: string[];
}

/** What Secret keys show in the diff instead of their values. */
export const secretValuePlaceholder = '<redacted>';
const context = 3;

/**
 * `dryRun` is what the server returned for a dry-run apply (defaults filled as on the live object), `live` the object
 * as it is now (undefined: the apply would create it). Both are compared as `in` writes them: without status and the
 * fields the server sets on every write (managedFields, resourceVersion, generation, ...), keys in a stable order.
 * Everything else that differs is a real change, the build annotations of a new build included.
 */
export function diffObject(live: KubeObject | undefined, dryRun: KubeObject): ObjectDiff {
  const ref = objectRef(dryRun);
  const secret = isSecret(dryRun) || (live !== undefined && isSecret(live));
  const keyChanges = secret ? secretKeyChanges(live && secretData(live), secretData(dryRun)) : [];
  const before = live ? objectYaml(secret ? withoutSecretValues(live) : live) : '';
  const after = objectYaml(secret ? withoutSecretValues(dryRun) : dryRun);

  const valuesChanged = keyChanges.some(([, change]) => change !== 'unchanged');
  const change: ObjectChange = !live ? 'created' : before !== after || valuesChanged ? 'changed' : 'unchanged';
  if (change === 'unchanged') return { ref, change, lines: [] };

  const patch = structuredPatch('', '', before, after, undefined, undefined, { context });
  const lines = [`--- live ${ref}`, `+++ dry-run ${ref}`];
  for (const hunk of patch.hunks) {
    // Unified diff: an empty side is numbered from 0 (`@@ -0,0 +1,12 @@`).
    const oldStart = hunk.oldLines === 0 ? hunk.oldStart - 1 : hunk.oldStart;
    const newStart = hunk.newLines === 0 ? hunk.newStart - 1 : hunk.newStart;
    lines.push(`@@ -${oldStart},${hunk.oldLines} +${newStart},${hunk.newLines} @@`, ...hunk.lines);
  }
  for (const [key, keyChange] of keyChanges) lines.push(`data.${key}: ${keyChange}`);
  return { ref, change, lines };
}

/**
 * `2 changed, 1 unchanged, 1 created, 1 to prune`. All four counts always, zeros included, in this order: one stable
 * shape a pipeline can match, and `0 to prune` says that prune was looked at rather than left out.
 */
export function formatDiffSummary(diffs: readonly ObjectDiff[], toPrune: readonly string[]): string {
  const count = (change: ObjectChange) => diffs.filter((d) => d.change === change).length;
  const changes = `${count('changed')} changed, ${count('unchanged')} unchanged, ${count('created')} created`;
  return `${changes}, ${toPrune.length} to prune`;
}

/** One document of `in`'s YAML, without its `---` separator. */
function objectYaml(object: KubeObject): string {
  return toYaml([object]).replace(/^---\n/, '');
}

function isSecret(object: KubeObject): boolean {
  return object.kind === 'Secret' && object.apiVersion === 'v1';
}

type SecretFields = { data?: Record<string, string>; stringData?: Record<string, string> };

/** The Secret's values as bytes; `stringData` counts as the server merges it into `data` (it wins on a clash). */
function secretData(object: KubeObject): SecretValues {
  const { data, stringData } = object as KubeObject & SecretFields;
  const values: SecretValues = new Map();
  for (const [key, value] of Object.entries(data ?? {})) values.set(key, Buffer.from(value ?? '', 'base64'));
  for (const [key, value] of Object.entries(stringData ?? {})) values.set(key, Buffer.from(value ?? '', 'utf8'));
  return values;
}

type SecretValues = Map<string, Buffer>;

function secretKeyChanges(live: SecretValues | undefined, dryRun: SecretValues): [string, SecretKeyChange][] {
  const keys = [...new Set([...(live?.keys() ?? []), ...dryRun.keys()])].sort();
  return keys.map((key) => {
    const before = live?.get(key);
    const after = dryRun.get(key);
    if (!before) return [key, 'added'];
    if (!after) return [key, 'removed'];
    return [key, before.equals(after) ? 'unchanged' : 'changed'];
  });
}

/** The Secret with its keys under `data`, every value a placeholder: the YAML can never hold a value. */
function withoutSecretValues(object: KubeObject): KubeObject {
  // Strip first: the last-applied annotation of a `kubectl apply` would hold the values.
  const { data: _data, stringData: _stringData, ...rest } = stripServerFields(object) as KubeObject & SecretFields;
  const keys = [...secretData(object).keys()];
  if (keys.length === 0) return rest as KubeObject;
  return { ...rest, data: Object.fromEntries(keys.map((key) => [key, secretValuePlaceholder])) } as KubeObject;
}
