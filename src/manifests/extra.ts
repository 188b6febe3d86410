// Pure: the YAML documents of `params.manifests` → checked objects, with errors that name the file and document.
import { BadRequestError } from '../errors.js';
import { dns1123Subdomain } from '../kube/names.js';
import { readYamlDocuments, shown, stripServerFields, YamlProblem, type YamlDocument } from './yaml.js';
import type { KubeObject } from '../kube/object.js';
import { parseWaitFor, waitForAnnotation } from './wait-for.js';

export interface ManifestFile {
  /** As the user wrote it, relative to the sources dir (for messages). */
  path: string;
  content: string;
}

// Cluster-scoped kinds cannot belong to a namespaced release (teardown could not scope them).
const clusterScoped = new Set([
  'Namespace',
  'Node',
  'PersistentVolume',
  'StorageClass',
  'ClusterRole',
  'ClusterRoleBinding',
  'CustomResourceDefinition',
  'IngressClass',
  'PriorityClass',
  'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration',
  'APIService',
  'PodSecurityPolicy',
  'RuntimeClass',
  'CSIDriver',
  'CSINode',
  'VolumeAttachment',
  'CertificateSigningRequest',
  'ValidatingAdmissionPolicy',
  'ValidatingAdmissionPolicyBinding',
  'MutatingAdmissionPolicy',
  'MutatingAdmissionPolicyBinding',
  'FlowSchema',
  'PriorityLevelConfiguration',
  'ComponentStatus',
  'TokenReview',
  'SelfSubjectReview',
  'SubjectAccessReview',
  'SelfSubjectAccessReview',
  'SelfSubjectRulesReview',
  'StorageVersion',
  'StorageVersionMigration',
  'VolumeAttributesClass',
  'DeviceClass',
  'ResourceSlice',
  'DeviceTaintRule',
  'IPAddress',
  'ServiceCIDR',
  'ClusterTrustBundle',
]);

type Port = { protocol?: string };
type PodSpec = { containers?: { ports?: Port[] }[]; initContainers?: { ports?: Port[] }[] };

/**
 * Sets `protocol: TCP` where the API server would default it. Server-side apply on Kubernetes before 1.22 refuses
 * ports lists without it (500 "associative list with keys has an element that omits key field protocol").
 */
export function defaultPortProtocols(object: KubeObject): KubeObject {
  const setTcp = (ports: Port[] | undefined) =>
    ports?.forEach((p) => typeof p === 'object' && p !== null && (p.protocol ??= 'TCP'));
  const pod = (spec: PodSpec | undefined) =>
    [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].forEach((c) => setTcp(c?.ports));
  const spec = object.spec as {
    ports?: Port[];
    template?: { spec?: PodSpec };
    jobTemplate?: { spec?: { template?: { spec?: PodSpec } } };
  } & PodSpec;
  if (!spec || typeof spec !== 'object') return object;
  if (object.kind === 'Service') setTcp(spec.ports);
  if (object.kind === 'Pod') pod(spec);
  pod(spec.template?.spec);
  pod(spec.jobTemplate?.spec?.template?.spec);
  return object;
}

function checkObject(doc: unknown, where: string, namespace: string): KubeObject {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw new BadRequestError(
      `${where}: not a Kubernetes object (expected a mapping with apiVersion, kind and metadata)`,
    );
  const o = doc as Record<string, unknown>;
  if (typeof o.apiVersion !== 'string' || o.apiVersion === '')
    throw new BadRequestError(`${where}: missing apiVersion`);
  if (!/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[a-z0-9]{1,63}$/.test(o.apiVersion)) {
    throw new BadRequestError(`${where}: apiVersion ${shown(o.apiVersion)} is not a group/version`);
  }
  if (typeof o.kind !== 'string' || o.kind === '') throw new BadRequestError(`${where}: missing kind`);
  if (!/^[A-Za-z][A-Za-z0-9]{0,62}$/.test(o.kind))
    throw new BadRequestError(`${where}: kind ${shown(o.kind)} is not a kind name`);
  const metadata = o.metadata as Record<string, unknown> | undefined;
  if (typeof metadata !== 'object' || metadata === null || typeof metadata.name !== 'string') {
    throw new BadRequestError(
      `${where}: ${o.kind} without metadata.name (generateName is not supported: the release must find it again)`,
    );
  }
  if (!dns1123Subdomain.test(metadata.name) || metadata.name.length > 253) {
    throw new BadRequestError(`${where}: metadata.name ${shown(metadata.name, 64)} is not a valid object name`);
  }
  if (clusterScoped.has(o.kind))
    throw new BadRequestError(`${where}: ${o.kind} is cluster-scoped; a release holds only namespaced objects`);
  if (metadata.namespace !== undefined && metadata.namespace !== namespace) {
    const ns = metadata.namespace;
    const named = typeof ns === 'string' ? shown(ns, 64) : `a ${Array.isArray(ns) ? 'list' : typeof ns}`;
    const object = `${o.kind.toLowerCase()}/${metadata.name}`;
    throw new BadRequestError(
      `${where}: ${object} names namespace ${named}, ` +
        `but the release goes to ${JSON.stringify(namespace)} (remove metadata.namespace)`,
    );
  }
  for (const field of ['labels', 'annotations'] as const) {
    const map = metadata[field];
    if (
      map !== undefined &&
      (typeof map !== 'object' ||
        map === null ||
        Array.isArray(map) ||
        Object.values(map).some((v) => typeof v !== 'string'))
    ) {
      throw new BadRequestError(`${where}: metadata.${field} must map strings to strings`);
    }
  }
  checkWaitFor(o as unknown as KubeObject, where);
  checkPhase(o as unknown as KubeObject, where);
  return defaultPortProtocols(stripServerFields(o as unknown as KubeObject));
}

/** Kinds the rollout wait judges by their own rules: a wait-for annotation on them would be a second, weaker one. */
const waitedKinds = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob']);

function checkWaitFor(object: KubeObject, where: string): void {
  const value = object.metadata.annotations?.[waitForAnnotation];
  if (value === undefined) return;
  const ref = `${object.kind.toLowerCase()}/${object.metadata.name}`;
  if (waitedKinds.has(object.kind))
    throw new BadRequestError(
      `${where}: ${ref}: annotation ${waitForAnnotation}: a ${object.kind} is waited for by its own rules already`,
    );
  const parsed = parseWaitFor(value);
  if ('error' in parsed)
    throw new BadRequestError(`${where}: ${ref}: annotation ${waitForAnnotation}: ${parsed.error}`);
}

/**
 * `kubernetes-deploy-resource.io/phase: before` on a Job (it runs to completion) or on an object waited for by a
 * wait-for annotation (its condition turns True) before the app is applied.
 */
export const phaseAnnotation = 'kubernetes-deploy-resource.io/phase';

export const isBeforePhase = (object: KubeObject): boolean =>
  object.metadata.annotations?.[phaseAnnotation] === 'before';

function checkPhase(object: KubeObject, where: string): void {
  const phase = object.metadata.annotations?.[phaseAnnotation];
  if (phase === undefined) return;
  const ref = `${object.kind.toLowerCase()}/${object.metadata.name}`;
  if (phase !== 'before')
    throw new BadRequestError(
      `${where}: ${ref}: annotation ${phaseAnnotation} is ${JSON.stringify(phase)}; the only phase is "before"`,
    );
  const isJob = object.kind === 'Job' && object.apiVersion === 'batch/v1';
  if (!isJob && object.metadata.annotations?.[waitForAnnotation] === undefined) {
    throw new BadRequestError(
      `${where}: ${ref}: annotation ${phaseAnnotation}: before is for Jobs (batch/v1) and for objects with a ` +
        `${waitForAnnotation} annotation only: nothing else has an end to wait for`,
    );
  }
}

/**
 * The bounds on extra manifests (README, `manifests` param). Each sits far above real manifests and below what would
 * hurt: the API server takes request bodies up to 3 MiB, and the release record must fit a 1 MiB Secret compressed.
 */
export const manifestLimits = {
  /** One document with its aliases expanded (about its size as JSON). */
  documentBytes: 3 * 1024 * 1024,
  /** All documents of the release together, expanded the same way. */
  releaseBytes: 8 * 1024 * 1024,
  /** Aliases (`*name`) in one document. */
  aliases: 1000,
  depth: 100,
  /** Keys copied by merge keys (`<<`) in one document. */
  mergedKeys: 10_000,
  /**
   * Nodes in one document, counted before parsing as the characters that can start one (`,[{:-?` and line breaks):
   * bounds the parser's memory (about 200 bytes a node). A ConfigMap's data is at most 1 MiB: even as CSV, about
   * 200,000.
   */
  nodes: 300_000,
  /** Nodes of all documents together, counted the same way: bounds what the release holds in memory. */
  releaseNodes: 600_000,
} as const;

/** The YAML documents of one file of `param`, within manifestLimits; a YAML problem names the file and line. */
export function readFileDocuments(file: ManifestFile, param: string, nodesLeft: { left: number }): YamlDocument[] {
  try {
    return readYamlDocuments(file.content, manifestLimits, nodesLeft);
  } catch (error) {
    if (error instanceof YamlProblem)
      throw new BadRequestError(`${param}: ${displayPath(file.path)} line ${error.line}: ${error.message}`);
    throw error;
  }
}

export function parseExtraManifests(files: ManifestFile[], namespace: string, reserved: string[] = []): KubeObject[] {
  const objects: KubeObject[] = [];
  const seen = new Map<string, string>(reserved.map((r) => [r, 'the release itself']));
  let releaseBytes = 0;
  const releaseNodes = { left: manifestLimits.releaseNodes };
  for (const file of files) {
    const name = displayPath(file.path);
    for (const doc of readFileDocuments(file, 'params.manifests', releaseNodes)) {
      if (doc.value === null || doc.value === undefined) continue; // an empty document, as kubectl skips it
      const where = `params.manifests: ${name} document ${doc.index} (line ${doc.line})`;
      releaseBytes += doc.expandedBytes;
      if (releaseBytes > manifestLimits.releaseBytes) {
        const limit = `${manifestLimits.releaseBytes / 1024 / 1024} MiB`;
        throw new BadRequestError(
          `${where}: the extra manifests together are larger than ${limit} (with aliases expanded)`,
        );
      }
      for (const item of itemsOf(doc.value, where)) {
        const object = checkObject(item, where, namespace);
        const key = `${object.kind}/${object.metadata.name}`;
        if (seen.has(key))
          throw new BadRequestError(
            `${where}: ${object.kind.toLowerCase()}/${object.metadata.name} is defined twice ` +
              `(also in ${seen.get(key)})`,
          );
        seen.set(key, `${name} document ${doc.index}`);
        objects.push(object);
      }
    }
  }
  if (files.length > 0 && objects.length === 0) {
    const more = files.length > 3 ? ` and ${files.length - 3} more` : '';
    const names =
      files
        .slice(0, 3)
        .map((f) => displayPath(f.path))
        .join(', ') + more;
    const verb = files.length === 1 ? 'holds' : 'hold';
    throw new BadRequestError(
      `params.manifests: ${names} ${verb} no Kubernetes object (only empty documents or Lists)`,
    );
  }
  return objects;
}

/** A `kind: ...List` document stands for its items (as kubectl reads it). */
function itemsOf(doc: unknown, where: string): unknown[] {
  const list = doc as { kind?: unknown; items?: unknown };
  if (typeof list !== 'object' || Array.isArray(list) || typeof list.kind !== 'string' || !list.kind.endsWith('List'))
    return [doc];
  if (!Array.isArray(list.items)) {
    const kind = /^[A-Za-z0-9]{1,63}$/.test(list.kind) ? list.kind : shown(list.kind);
    throw new BadRequestError(`${where}: ${kind} without a list of items`);
  }
  return list.items;
}

/** A path as the user wrote it, quoted (and cut) when it holds anything that would break a one-line message. */
export function displayPath(path: string): string {
  return /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(path) && path.length <= 200 ? path : shown(path, 200);
}
