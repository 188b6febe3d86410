// Pure: the YAML documents of `params.manifests` → checked objects, with errors that name the file and document.
import { loadAll } from 'js-yaml';
import { BadRequestError } from '../errors.js';
import { dns1123Subdomain } from '../kube/names.js';
import { stripServerFields } from './yaml.js';
import type { KubeObject } from '../kube/object.js';

export interface ManifestFile {
  /** As the user wrote it, relative to the sources dir (for messages). */
  path: string;
  content: string;
}

// Cluster-scoped kinds cannot belong to a namespaced release (teardown could not scope them).
const clusterScoped = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'StorageClass', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition',
  'IngressClass', 'PriorityClass', 'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'APIService',
  'PodSecurityPolicy', 'RuntimeClass', 'CSIDriver', 'CSINode', 'VolumeAttachment', 'CertificateSigningRequest',
  'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'MutatingAdmissionPolicy', 'MutatingAdmissionPolicyBinding',
  'FlowSchema', 'PriorityLevelConfiguration', 'ComponentStatus', 'TokenReview', 'SelfSubjectReview', 'SubjectAccessReview',
  'SelfSubjectAccessReview', 'SelfSubjectRulesReview', 'StorageVersion', 'StorageVersionMigration', 'VolumeAttributesClass',
  'DeviceClass', 'ResourceSlice', 'DeviceTaintRule', 'IPAddress', 'ServiceCIDR', 'ClusterTrustBundle',
]);

type Port = { protocol?: string };
type PodSpec = { containers?: { ports?: Port[] }[]; initContainers?: { ports?: Port[] }[] };

/**
 * Sets `protocol: TCP` where the API server would default it. Server-side apply on Kubernetes before 1.22 refuses
 * ports lists without it (500 "associative list with keys has an element that omits key field protocol").
 */
export function defaultPortProtocols(object: KubeObject): KubeObject {
  const setTcp = (ports: Port[] | undefined) => ports?.forEach((p) => typeof p === 'object' && p !== null && (p.protocol ??= 'TCP'));
  const pod = (spec: PodSpec | undefined) => [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].forEach((c) => setTcp(c?.ports));
  const spec = object.spec as { ports?: Port[]; template?: { spec?: PodSpec }; jobTemplate?: { spec?: { template?: { spec?: PodSpec } } } } & PodSpec;
  if (!spec || typeof spec !== 'object') return object;
  if (object.kind === 'Service') setTcp(spec.ports);
  if (object.kind === 'Pod') pod(spec);
  pod(spec.template?.spec);
  pod(spec.jobTemplate?.spec?.template?.spec);
  return object;
}

function checkObject(doc: unknown, where: string, namespace: string): KubeObject {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new BadRequestError(`${where}: not a Kubernetes object (expected a mapping with apiVersion, kind and metadata)`);
  const o = doc as Record<string, unknown>;
  if (typeof o.apiVersion !== 'string' || o.apiVersion === '') throw new BadRequestError(`${where}: missing apiVersion`);
  if (typeof o.kind !== 'string' || o.kind === '') throw new BadRequestError(`${where}: missing kind`);
  const metadata = o.metadata as Record<string, unknown> | undefined;
  if (typeof metadata !== 'object' || metadata === null || typeof metadata.name !== 'string') {
    throw new BadRequestError(`${where}: ${o.kind} without metadata.name (generateName is not supported: the release must find it again)`);
  }
  if (!dns1123Subdomain.test(metadata.name) || metadata.name.length > 253) throw new BadRequestError(`${where}: metadata.name ${JSON.stringify(metadata.name)} is not a valid object name`);
  if (clusterScoped.has(o.kind)) throw new BadRequestError(`${where}: ${o.kind} is cluster-scoped; a release holds only namespaced objects`);
  if (metadata.namespace !== undefined && metadata.namespace !== namespace) {
    throw new BadRequestError(`${where}: ${o.kind.toLowerCase()}/${metadata.name} names namespace ${JSON.stringify(metadata.namespace)}, but the release goes to ${JSON.stringify(namespace)} (remove metadata.namespace)`);
  }
  for (const field of ['labels', 'annotations'] as const) {
    const map = metadata[field];
    if (map !== undefined && (typeof map !== 'object' || map === null || Object.values(map).some((v) => typeof v !== 'string'))) {
      throw new BadRequestError(`${where}: metadata.${field} must map strings to strings`);
    }
  }
  checkPhase(o as unknown as KubeObject, where);
  return defaultPortProtocols(stripServerFields(o as unknown as KubeObject));
}

/** `kubernetes-deploy-resource.io/phase: before` on a Job: it runs to completion before the app is applied. */
export const phaseAnnotation = 'kubernetes-deploy-resource.io/phase';

export const isBeforePhase = (object: KubeObject): boolean => object.metadata.annotations?.[phaseAnnotation] === 'before';

function checkPhase(object: KubeObject, where: string): void {
  const phase = object.metadata.annotations?.[phaseAnnotation];
  if (phase === undefined) return;
  const ref = `${object.kind.toLowerCase()}/${object.metadata.name}`;
  if (phase !== 'before') throw new BadRequestError(`${where}: ${ref}: annotation ${phaseAnnotation} is ${JSON.stringify(phase)}; the only phase is "before"`);
  if (object.kind !== 'Job' || object.apiVersion !== 'batch/v1') {
    throw new BadRequestError(`${where}: ${ref}: annotation ${phaseAnnotation}: before is for Jobs (batch/v1) only: nothing else runs to completion`);
  }
}

export function parseExtraManifests(files: ManifestFile[], namespace: string, reserved: string[] = []): KubeObject[] {
  const objects: KubeObject[] = [];
  const seen = new Map<string, string>(reserved.map((r) => [r, 'the release itself']));
  for (const file of files) {
    let docs: unknown[];
    try {
      docs = loadAll(file.content);
    } catch (error) {
      const mark = (error as { mark?: { line?: number } }).mark;
      throw new BadRequestError(`params.manifests: ${file.path}: not valid YAML${mark?.line !== undefined ? ` (line ${mark.line + 1})` : ''}`);
    }
    let index = 0;
    for (const doc of docs) {
      index++;
      if (doc === null || doc === undefined) continue;
      const where = `params.manifests: ${file.path} document ${index}`;
      const list = doc as { kind?: unknown; items?: unknown };
      const items = typeof list === 'object' && typeof list.kind === 'string' && list.kind.endsWith('List') && Array.isArray(list.items) ? list.items : [doc];
      for (const item of items) {
        const object = checkObject(item, where, namespace);
        const key = `${object.kind}/${object.metadata.name}`;
        if (seen.has(key)) throw new BadRequestError(`${where}: ${object.kind.toLowerCase()}/${object.metadata.name} is defined twice (also in ${seen.get(key)})`);
        seen.set(key, `${file.path} document ${index}`);
        objects.push(object);
      }
    }
  }
  return objects;
}
