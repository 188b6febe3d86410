// Pure: a release spec in, the release's objects out (extra manifests first, then Deployment, Service, Ingress).
import { createHash } from 'node:crypto';
import {
  containersOf,
  fillImagePlaceholder,
  imageReference,
  podSpecsOf,
  versionLabel,
  type ImageRef,
} from './image.js';
import { defaultPortProtocols } from './extra.js';
import { applyPatches, checkPatchTargets, type ReleasePatch } from './patches.js';
import { labelKeys, managedBy, ourKey, selectorLabels } from '../kube/labels.js';
import type { KubeObject } from '../kube/object.js';
import { BadRequestError } from '../errors.js';

export interface ResourceList {
  cpu?: string;
  memory?: string;
  'ephemeral-storage'?: string;
}

/** An environment variable: a literal, or a key of a Secret or ConfigMap (of the namespace or the release). */
export type EnvSource =
  string | { secret: string; key: string; optional?: boolean } | { configMap: string; key: string; optional?: boolean };

/** All keys of a Secret or ConfigMap as variables (`envFrom`). */
export type EnvFromSource = ({ secret: string } | { configMap: string }) & { prefix?: string; optional?: boolean };

export interface ReleaseSpec {
  app: string;
  namespace: string;
  image: ImageRef;
  /** `auto`: the Deployment carries no spec.replicas (an autoscaler or a person owns it; see engine/replicas.ts). */
  replicas: number | 'auto';
  port: number;
  servicePort: number;
  env: Record<string, EnvSource>;
  envFrom?: EnvFromSource[];
  imagePullSecrets?: string[];
  serviceAccount?: string;
  args?: string[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  resources?: { requests?: ResourceList; limits?: ResourceList };
  readinessPath?: string;
  host?: string;
  path: string;
  ingressClass?: string;
  tlsSecret?: string;
  ingressAnnotations: Record<string, string>;
  /** Documents from `params.manifests`, already checked (see extra.ts). */
  extraObjects: KubeObject[];
  /** Concourse build metadata (see output/build-env.ts). */
  buildAnnotations: Record<string, string>;
  /** The Pod Security Standard the Deployment's Pods are made to pass; baseline (the default) adds nothing. */
  securityContext?: PodSecurityLevel;
  /** Strategic-merge patches of the generated Deployment, Service and Ingress (see patches.ts). */
  patches?: ReleasePatch[];
}

export type PodSecurityLevel = 'baseline' | 'restricted';

// What the restricted Pod Security Standard asks of every Pod and container (kubernetes.io/docs/concepts/security/
// pod-security-standards): non-root, the runtime's default seccomp profile, no privilege escalation, no capabilities.
// The image must then run as a numeric non-root USER, or the kubelet refuses to start it (CreateContainerConfigError).
const restrictedPodSecurityContext = () => ({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
const restrictedContainerSecurityContext = () => ({ allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } });

function releaseLabels(spec: ReleaseSpec): Record<string, string> {
  // Ours last: a user label cannot take away the ownership labels.
  return {
    ...spec.labels,
    ...selectorLabels(spec.app),
    [labelKeys.version]: versionLabel(spec.image),
    [labelKeys.managedBy]: managedBy,
  };
}

function nonEmpty<T extends object>(value: T): T | undefined {
  return Object.keys(value).length > 0 ? value : undefined;
}

function metadata(spec: ReleaseSpec, extraAnnotations: Record<string, string> = {}) {
  return {
    name: spec.app,
    namespace: spec.namespace,
    labels: releaseLabels(spec),
    ...(nonEmpty({ ...spec.annotations, ...extraAnnotations, ...spec.buildAnnotations })
      ? { annotations: { ...spec.annotations, ...extraAnnotations, ...spec.buildAnnotations } }
      : {}),
  };
}

function envVar(name: string, source: EnvSource) {
  if (typeof source === 'string') return { name, value: source };
  const optional = source.optional !== undefined ? { optional: source.optional } : {};
  return 'secret' in source
    ? { name, valueFrom: { secretKeyRef: { name: source.secret, key: source.key, ...optional } } }
    : { name, valueFrom: { configMapKeyRef: { name: source.configMap, key: source.key, ...optional } } };
}

function envFromEntry(source: EnvFromSource) {
  const ref = { name: 'secret' in source ? source.secret : source.configMap };
  const optional = source.optional !== undefined ? { optional: source.optional } : {};
  return {
    ...(source.prefix !== undefined ? { prefix: source.prefix } : {}),
    ...('secret' in source ? { secretRef: { ...ref, ...optional } } : { configMapRef: { ...ref, ...optional } }),
  };
}

export function renderDeployment(spec: ReleaseSpec): KubeObject {
  const env = Object.keys(spec.env)
    .sort()
    .map((name) => envVar(name, spec.env[name]!));
  const envFrom = (spec.envFrom ?? []).map(envFromEntry);
  const resources = spec.resources && (spec.resources.requests || spec.resources.limits) ? spec.resources : undefined;
  const restricted = spec.securityContext === 'restricted';
  const container = {
    name: spec.app,
    image: imageReference(spec.image),
    ...(spec.args ? { args: spec.args } : {}),
    ...(env.length ? { env } : {}),
    ...(envFrom.length ? { envFrom } : {}),
    ports: [{ name: 'http', containerPort: spec.port, protocol: 'TCP' }],
    ...(spec.readinessPath ? { readinessProbe: { httpGet: { path: spec.readinessPath, port: 'http' } } } : {}),
    ...(resources ? { resources } : {}),
    ...(restricted ? { securityContext: restrictedContainerSecurityContext() } : {}),
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: metadata(spec),
    spec: {
      ...(spec.replicas === 'auto' ? {} : { replicas: spec.replicas }),
      selector: { matchLabels: selectorLabels(spec.app) },
      template: {
        metadata: { labels: releaseLabels(spec) },
        spec: {
          ...(spec.serviceAccount ? { serviceAccountName: spec.serviceAccount } : {}),
          ...(spec.imagePullSecrets?.length
            ? { imagePullSecrets: spec.imagePullSecrets.map((name) => ({ name })) }
            : {}),
          ...(restricted ? { securityContext: restrictedPodSecurityContext() } : {}),
          containers: [container],
        },
      },
    },
  };
}

export function renderService(spec: ReleaseSpec): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: metadata(spec),
    spec: {
      type: 'ClusterIP',
      selector: selectorLabels(spec.app),
      ports: [{ name: 'http', port: spec.servicePort, targetPort: 'http', protocol: 'TCP' }],
    },
  };
}

export function renderIngress(spec: ReleaseSpec): KubeObject | undefined {
  if (!spec.host) return undefined;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: metadata(spec, spec.ingressAnnotations),
    spec: {
      ...(spec.ingressClass ? { ingressClassName: spec.ingressClass } : {}),
      rules: [
        {
          host: spec.host,
          http: {
            paths: [
              {
                path: spec.path,
                pathType: 'Prefix',
                backend: { service: { name: spec.app, port: { number: spec.servicePort } } },
              },
            ],
          },
        },
      ],
      ...(spec.tlsSecret ? { tls: [{ hosts: [spec.host], secretName: spec.tlsSecret }] } : {}),
    },
  };
}

// Workloads whose Pods should carry the release's instance label, so teardown can wait for them.
const podTemplateKinds = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);
// Install order of dependencies, as Helm does it: what others reference comes first.
const kindOrder = [
  'ServiceAccount',
  'Secret',
  'ConfigMap',
  'PersistentVolumeClaim',
  'Role',
  'RoleBinding',
  'Service',
  'DaemonSet',
  'Pod',
  'ReplicaSet',
  'Deployment',
  'StatefulSet',
  'Job',
  'CronJob',
  'Ingress',
];
const rank = (kind: string) => {
  const i = kindOrder.indexOf(kind);
  return i < 0 ? kindOrder.length : i;
};

export function labelExtraObject(object: KubeObject, spec: ReleaseSpec): KubeObject {
  const ownership = { [labelKeys.instance]: spec.app, [labelKeys.managedBy]: managedBy };
  const copy = structuredClone(object);
  copy.metadata.namespace = spec.namespace;
  copy.metadata.labels = {
    [labelKeys.name]: spec.app,
    ...spec.labels,
    ...copy.metadata.labels,
    ...ownership,
    [labelKeys.version]: versionLabel(spec.image),
  };
  const annotations = { ...copy.metadata.annotations, ...spec.buildAnnotations };
  if (nonEmpty(annotations)) copy.metadata.annotations = annotations;
  fillImagePlaceholder(copy, imageReference(spec.image));
  const template = (copy.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)
    ?.template;
  if (podTemplateKinds.has(copy.kind) && template) {
    template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, ...ownership } };
  }
  return copy;
}

/** The Pod template annotation that holds the hash of the release's ConfigMaps and Secrets the app reads. */
export const configHashAnnotation = ourKey('config-hash');

type Ref = { name?: unknown };
type PodRefs = {
  imagePullSecrets?: unknown;
  volumes?: {
    secret?: { secretName?: unknown };
    configMap?: Ref;
    projected?: { sources?: { secret?: Ref; configMap?: Ref }[] };
  }[];
};
type ContainerRefs = {
  env?: { valueFrom?: { secretKeyRef?: Ref; configMapKeyRef?: Ref } }[];
  envFrom?: { secretRef?: Ref; configMapRef?: Ref }[];
};

/** `Secret/NAME` and `ConfigMap/NAME` of every Secret and ConfigMap the Pod template reads (env, envFrom, volumes). */
export function configReferences(deployment: KubeObject): Set<string> {
  const refs = new Set<string>();
  const add = (kind: 'Secret' | 'ConfigMap', name: unknown) => typeof name === 'string' && refs.add(`${kind}/${name}`);
  const list = <T>(value: unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);
  for (const pod of podSpecsOf(deployment) as object[] as PodRefs[]) {
    for (const container of containersOf(pod) as ContainerRefs[]) {
      for (const env of list<NonNullable<ContainerRefs['env']>[number]>(container.env)) {
        add('Secret', env?.valueFrom?.secretKeyRef?.name);
        add('ConfigMap', env?.valueFrom?.configMapKeyRef?.name);
      }
      for (const from of list<NonNullable<ContainerRefs['envFrom']>[number]>(container.envFrom)) {
        add('Secret', from?.secretRef?.name);
        add('ConfigMap', from?.configMapRef?.name);
      }
    }
    for (const volume of list<NonNullable<PodRefs['volumes']>[number]>(pod.volumes)) {
      add('Secret', volume?.secret?.secretName);
      add('ConfigMap', volume?.configMap?.name);
      for (const source of list<{ secret?: Ref; configMap?: Ref }>(volume?.projected?.sources)) {
        add('Secret', source?.secret?.name);
        add('ConfigMap', source?.configMap?.name);
      }
    }
  }
  return refs;
}

/**
 * One hash of the data of the release's own ConfigMaps and Secrets that the Deployment reads, undefined when it reads
 * none: on the Pod template, a changed one makes a new ReplicaSet, so the Pods read the new values. Only this hash of
 * all of them together shows, never a value.
 */
export function configHash(deployment: KubeObject, extras: KubeObject[]): string | undefined {
  const refs = configReferences(deployment);
  const read = extras
    .filter((o) => o.apiVersion === 'v1' && refs.has(`${o.kind}/${o.metadata.name}`))
    .map((o) => {
      const { data, stringData, binaryData } = o as { data?: unknown; stringData?: unknown; binaryData?: unknown };
      return [`${o.kind}/${o.metadata.name}`, { data, stringData, binaryData }] as const;
    })
    .sort(([a], [b]) => (a < b ? -1 : 1));
  if (!read.length) return undefined;
  return createHash('sha256').update(JSON.stringify(read)).digest('hex').slice(0, 32);
}

function withConfigHash(deployment: KubeObject, extras: KubeObject[]): KubeObject {
  const hash = configHash(deployment, extras);
  if (!hash) return deployment;
  const copy = structuredClone(deployment);
  const template = (copy.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template;
  template.metadata.annotations = { ...template.metadata.annotations, [configHashAnnotation]: hash };
  return copy;
}

/** An autoscaler of the release that scales the app while each put sets replicas would fight every put: refused. */
function checkAutoscaler(spec: ReleaseSpec, extras: KubeObject[]): void {
  if (spec.replicas === 'auto') return;
  const hpa = extras.find((o) => {
    const target = (o.spec as { scaleTargetRef?: { kind?: unknown; name?: unknown } } | undefined)?.scaleTargetRef;
    return o.kind === 'HorizontalPodAutoscaler' && target?.kind === 'Deployment' && target.name === spec.app;
  });
  if (hpa)
    throw new BadRequestError(
      `params.replicas: horizontalpodautoscaler/${hpa.metadata.name} of the release scales deployment/${spec.app}; ` +
        'set replicas: auto so that a put does not scale it back',
    );
}

/** Every object of the release, in the order they are applied. */
export function renderManifests(spec: ReleaseSpec): KubeObject[] {
  const extras = spec.extraObjects
    .map((object, index) => ({ object: labelExtraObject(object, spec), index }))
    .sort((a, b) => rank(a.object.kind) - rank(b.object.kind) || a.index - b.index)
    .map(({ object }) => object);
  checkAutoscaler(spec, extras);
  const ingress = renderIngress(spec);
  const generated = [renderDeployment(spec), renderService(spec), ...(ingress ? [ingress] : [])];
  const patches = spec.patches ?? [];
  checkPatchTargets(
    patches,
    generated.map((o) => o.kind),
  );
  const own = applyPatches(generated, patches, spec.app).map((object) => {
    if (!patches.some((p) => p.kind === object.kind)) return object;
    // What a patch added: a sidecar may run the put's image too, ports get their protocol like extra manifests'.
    const copy = structuredClone(object);
    fillImagePlaceholder(copy, imageReference(spec.image));
    return defaultPortProtocols(copy);
  });
  return [...extras, ...own.map((o) => (o.kind === 'Deployment' ? withConfigHash(o, extras) : o))];
}
