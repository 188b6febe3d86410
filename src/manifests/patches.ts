// Pure: `params.patches` documents → strategic-merge patches of the generated Deployment, Service and Ingress, and
// their application. The patched objects are what is applied and recorded, so a redeploy or rollback re-applies them.
import { BadRequestError } from '../errors.js';
import { labelKeys } from '../kube/labels.js';
import { objectRef, type KubeObject } from '../kube/object.js';
import { displayPath, manifestLimits, readFileDocuments, type ManifestFile } from './extra.js';
import { shown } from './yaml.js';

export type PatchedKind = 'Deployment' | 'Service' | 'Ingress';
const apiVersions: Record<PatchedKind, string> = {
  Deployment: 'apps/v1',
  Service: 'v1',
  Ingress: 'networking.k8s.io/v1',
};

export interface ReleasePatch {
  /** `params.patches: FILE document N (line L)`, for messages. */
  where: string;
  kind: PatchedKind;
  /** The patch, without apiVersion and kind. */
  patch: Record<string, unknown>;
}

type Json = unknown;
type JsonMap = Record<string, Json>;
const isMap = (v: Json): v is JsonMap => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads the patch documents: each a mapping naming `kind` (Deployment, Service or Ingress) and what to change. */
export function parsePatches(files: ManifestFile[], app: string): ReleasePatch[] {
  const patches: ReleasePatch[] = [];
  const nodes = { left: manifestLimits.releaseNodes };
  for (const file of files) {
    for (const doc of readFileDocuments(file, 'params.patches', nodes)) {
      if (doc.value === null || doc.value === undefined) continue;
      const where = `params.patches: ${displayPath(file.path)} document ${doc.index} (line ${doc.line})`;
      patches.push(checkPatch(doc.value, where, app));
    }
  }
  return patches;
}

function checkPatch(doc: Json, where: string, app: string): ReleasePatch {
  if (!isMap(doc)) throw new BadRequestError(`${where}: a patch is a mapping with kind and the fields to change`);
  const { apiVersion, kind, ...patch } = doc;
  if (kind !== 'Deployment' && kind !== 'Service' && kind !== 'Ingress') {
    const given = typeof kind === 'string' ? `is ${shown(kind)}` : 'is missing';
    throw new BadRequestError(`${where}: kind ${given}; a patch is for the generated Deployment, Service or Ingress`);
  }
  if (apiVersion !== undefined && apiVersion !== apiVersions[kind])
    throw new BadRequestError(`${where}: apiVersion of a ${kind} patch is ${apiVersions[kind]} (or leave it out)`);
  const metadata = patch.metadata;
  if (metadata !== undefined && !isMap(metadata)) throw new BadRequestError(`${where}: metadata must be a mapping`);
  if (metadata?.name !== undefined && metadata.name !== app)
    throw new BadRequestError(`${where}: metadata.name must be ${JSON.stringify(app)} (the app) or left out`);
  checkDirectives(patch, where, []);
  return { where, kind, patch };
}

/** Only the directives this merge knows: `$patch: replace | delete`; anything else would be silently wrong. */
function checkDirectives(value: Json, where: string, path: string[]): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkDirectives(item, where, [...path, String(i)]));
    return;
  }
  if (!isMap(value)) return;
  for (const [key, child] of Object.entries(value)) {
    if (!key.startsWith('$')) {
      checkDirectives(child, where, [...path, key]);
      continue;
    }
    if (key !== '$patch' || (child !== 'replace' && child !== 'delete')) {
      throw new BadRequestError(
        `${where}: ${[...path, key].join('.')}: only the directive $patch: replace or $patch: delete is supported`,
      );
    }
  }
}

// The merge keys of strategic merge patch for the lists a Deployment, Service or Ingress holds (from the Kubernetes
// API's patchMergeKey tags); every other list is replaced whole, as strategic merge does for atomic lists.
const mergeKeys: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  resourceClaims: 'name',
  readinessGates: 'conditionType',
};
/** `ports` merges by containerPort in a container and by port in a Service. */
const mergeKeyOf = (path: string[], kind: PatchedKind): string | undefined => {
  const field = path.at(-1)!;
  if (field === 'ports') return kind === 'Service' && path.length === 2 ? 'port' : 'containerPort';
  return mergeKeys[field];
};

function withoutDirective(value: JsonMap): JsonMap {
  const { $patch: _directive, ...rest } = value;
  return rest;
}

/** A strategic merge of `patch` into `target` (both left unchanged): null deletes a key, keyed lists merge by key. */
export function strategicMerge(target: Json, patch: Json, kind: PatchedKind, path: string[] = []): Json {
  if (isMap(patch)) {
    if (patch.$patch === 'replace' || !isMap(target)) return stripDirectives(withoutDirective(patch));
    const result: JsonMap = { ...target };
    for (const [key, value] of Object.entries(patch)) {
      if (key === '$patch') continue;
      if (value === null || (isMap(value) && value.$patch === 'delete')) delete result[key];
      else result[key] = strategicMerge(target[key], value, kind, [...path, key]);
    }
    return result;
  }
  if (Array.isArray(patch)) {
    const key = mergeKeyOf(path, kind);
    const replaceAll = patch.some((item) => isMap(item) && item.$patch === 'replace' && Object.keys(item).length === 1);
    const items = patch.filter((item) => !(isMap(item) && Object.keys(item).length === 1 && '$patch' in item));
    if (!key || replaceAll || !Array.isArray(target)) return stripDirectives(items);
    const result = [...target];
    for (const item of items) {
      if (!isMap(item) || item[key] === undefined) {
        result.push(stripDirectives(item));
        continue;
      }
      const at = result.findIndex((existing) => isMap(existing) && existing[key] === item[key]);
      if (item.$patch === 'delete') {
        if (at >= 0) result.splice(at, 1);
      } else if (at >= 0) {
        result[at] = strategicMerge(result[at], item, kind, [...path, String(at)]);
      } else {
        result.push(stripDirectives(item));
      }
    }
    return result;
  }
  return patch;
}

/** A patch's new content, as it lands in the object: no directives, no nulls (a null on a new key adds nothing). */
function stripDirectives(value: Json): Json {
  if (Array.isArray(value)) return value.map(stripDirectives);
  if (!isMap(value)) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([k, v]) => k !== '$patch' && v !== null)
      .map(([k, v]) => [k, stripDirectives(v)]),
  );
}

const ownershipLabels = [labelKeys.name, labelKeys.instance, labelKeys.version, labelKeys.managedBy];

/** What a patch may not change: what makes the object the release's, and what params own (replicas, the image). */
function protectedFields(object: KubeObject, app: string): Record<string, Json> {
  const o = object as KubeObject & {
    spec?: {
      selector?: Json;
      replicas?: Json;
      template?: { metadata?: { labels?: Record<string, string> }; spec?: { containers?: JsonMap[] } };
    };
  };
  const labels = (map: Record<string, string> | undefined) =>
    Object.fromEntries(ownershipLabels.map((k) => [k, map?.[k]]));
  const fields: Record<string, Json> = {
    apiVersion: o.apiVersion,
    kind: o.kind,
    'metadata.name': o.metadata.name,
    'metadata.namespace': o.metadata.namespace,
    'metadata.labels': labels(o.metadata.labels),
  };
  if (o.kind === 'Service' || o.kind === 'Deployment') fields['spec.selector'] = o.spec?.selector;
  if (o.kind === 'Deployment') {
    fields['spec.replicas (params.replicas)'] = o.spec?.replicas;
    fields['spec.template.metadata.labels'] = labels(o.spec?.template?.metadata?.labels);
    const app_ = o.spec?.template?.spec?.containers?.find((c) => isMap(c) && c.name === app);
    fields[`the image of container ${app} (the put's image)`] = app_?.image;
  }
  return fields;
}

/** The generated objects with every patch applied in order; a patch that touches what is protected is an error. */
export function applyPatches(objects: KubeObject[], patches: ReleasePatch[], app: string): KubeObject[] {
  return objects.map((object) => {
    const own = patches.filter((p) => p.kind === object.kind);
    if (!own.length) return object;
    const before = protectedFields(object, app);
    let patched = object;
    for (const { patch, where } of own) {
      patched = strategicMerge(patched, patch, object.kind as PatchedKind) as KubeObject;
      const after = protectedFields(patched, app);
      for (const field of Object.keys(before)) {
        if (JSON.stringify(before[field]) !== JSON.stringify(after[field]))
          throw new BadRequestError(
            `${where}: cannot change ${field} of ${objectRef(object)} ` +
              "(the release's ownership labels, selector, replicas and image are not patchable)",
          );
      }
    }
    return patched;
  });
}

/** Patches for an object the release does not generate (an Ingress without params.host) are an error. */
export function checkPatchTargets(patches: ReleasePatch[], kinds: string[]): void {
  const orphan = patches.find((p) => !kinds.includes(p.kind));
  if (orphan)
    throw new BadRequestError(
      `${orphan.where}: the release has no ${orphan.kind}` +
        (orphan.kind === 'Ingress' ? ' (params.host is not set)' : ''),
    );
}
