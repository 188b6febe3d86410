// Pure: a release spec in, the release's objects out (extra manifests first, then Deployment, Service, Ingress).
import { imageReference, versionLabel, type ImageRef } from './image.js';
import { labelKeys, managedBy, selectorLabels } from '../kube/labels.js';
import type { KubeObject } from '../kube/object.js';

export interface ResourceList {
  cpu?: string;
  memory?: string;
  'ephemeral-storage'?: string;
}

export interface ReleaseSpec {
  app: string;
  namespace: string;
  image: ImageRef;
  replicas: number;
  port: number;
  servicePort: number;
  env: Record<string, string>;
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

export function renderDeployment(spec: ReleaseSpec): KubeObject {
  const env = Object.keys(spec.env)
    .sort()
    .map((name) => ({ name, value: spec.env[name]! }));
  const resources = spec.resources && (spec.resources.requests || spec.resources.limits) ? spec.resources : undefined;
  const restricted = spec.securityContext === 'restricted';
  const container = {
    name: spec.app,
    image: imageReference(spec.image),
    ...(spec.args ? { args: spec.args } : {}),
    ...(env.length ? { env } : {}),
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
      replicas: spec.replicas,
      selector: { matchLabels: selectorLabels(spec.app) },
      template: {
        metadata: { labels: releaseLabels(spec) },
        spec: {
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
  const template = (copy.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)
    ?.template;
  if (podTemplateKinds.has(copy.kind) && template) {
    template.metadata = { ...template.metadata, labels: { ...template.metadata?.labels, ...ownership } };
  }
  return copy;
}

/** Every object of the release, in the order they are applied. */
export function renderManifests(spec: ReleaseSpec): KubeObject[] {
  const extras = spec.extraObjects
    .map((object, index) => ({ object: labelExtraObject(object, spec), index }))
    .sort((a, b) => rank(a.object.kind) - rank(b.object.kind) || a.index - b.index)
    .map(({ object }) => object);
  const ingress = renderIngress(spec);
  return [...extras, renderDeployment(spec), renderService(spec), ...(ingress ? [ingress] : [])];
}
