// A put request, finished: from raw JSON to a typed, fully checked plan that commands/out.ts only carries out.
// Who parses what: schemas.ts checks the shape and every value that stands alone (snake_case, as Concourse users
// write it); this module adds what needs the step's environment or several fields at once (${BUILD_*} expansion and
// re-validation, durations in ms, image references, which action the put is) and hands out camelCase fields.
// Files of the sources dir are read later, by sources/read.ts, which checks what it reads the same way.
import { BadRequestError } from '../errors.js';
import { dns1123Subdomain } from '../kube/names.js';
import { parseImageReference, type ImageRef } from '../manifests/image.js';
import type { ReleaseSpec } from '../manifests/render.js';
import { parseDuration } from '../time.js';
import { expandableBuildKeys, type BuildEnv } from './build-env.js';
import { quote } from './issues.js';
import { checkNamespaceName, namespaceOfSource, type NamespaceChoice } from './namespace.js';
import { parseOutRequest, type OutParams } from './out-schema.js';
import type { Source } from './schemas.js';

/** What the generated Deployment, Service and Ingress are made of: the release spec less what a put adds to it. */
export type RenderParams = Omit<
  ReleaseSpec,
  'app' | 'namespace' | 'image' | 'extraObjects' | 'buildAnnotations' | 'patches'
>;

interface PlanBase {
  source: Source;
  app: string;
  namespace: NamespaceChoice;
  /** params.timeout: the one budget of the whole put. */
  timeoutMs: number;
}

/** How a deploy behaves around the apply: shared by a new release and a redeployed revision. */
export interface DeployOptions {
  createNamespace: boolean;
  mode: 'apply' | 'create';
  wait: boolean;
  prune: boolean;
  onFailure: 'keep' | 'rollback';
  dryRun: boolean;
  /** Restart the Pods of the release's Deployments, StatefulSets and DaemonSets, as `kubectl rollout restart`. */
  restart: boolean;
}

export interface DeployPlan extends PlanBase, DeployOptions {
  action: 'deploy';
  /** A registry-image get dir to read, or a reference given inline. */
  image: { dir: string } | { ref: ImageRef };
  manifests: string[];
  /** Files of strategic-merge patches of the generated objects (manifests/patches.ts). */
  patches: string[];
  render: RenderParams;
}

export interface RedeployPlan extends PlanBase, DeployOptions {
  action: 'redeploy';
  revision: { number: number } | { file: string };
}

export interface TeardownPlan extends PlanBase {
  action: 'teardown';
  deleteNamespace: boolean;
  /** Keep the PersistentVolumeClaims of the release's StatefulSets. */
  keepVolumes: boolean;
}

export interface SweepPlan extends Omit<PlanBase, 'namespace'> {
  action: 'sweep';
  olderThanMs: number;
  keep: number;
  dryRun: boolean;
  namespacePrefix: string;
}

export type PutPlan = DeployPlan | RedeployPlan | TeardownPlan | SweepPlan;

/** Params that shape a new release; a redeploy takes all of them from the record, so giving one is a mistake. */
const releaseShapingParams = [
  'image',
  'image_ref',
  'manifests',
  'patches',
  'replicas',
  'port',
  'service_port',
  'env',
  'env_from',
  'image_pull_secrets',
  'service_account',
  'args',
  'labels',
  'annotations',
  'resources',
  'readiness_path',
  'host',
  'path',
  'ingress_class',
  'tls_secret',
  'ingress_annotations',
  'mode',
  'security_context',
] as const;

const buildVars = expandableBuildKeys;

/**
 * A build variable's value as part of a DNS name (namespace, host): lowercase, and every character other than a-z,
 * 0-9 and - becomes -, so that a rerun's BUILD_NAME `42.1` gives `42-1` (not an invalid namespace, not an extra DNS
 * level in a host).
 */
export function nameSafe(value: string): string {
  return value.toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

/**
 * Expands ${BUILD_NAME} and friends; unknown or unset names are errors naming the field. `asName`: each value is made
 * part of a DNS name first (nameSafe: a rerun's `42.1` becomes `42-1`); the text around it is kept.
 */
export function expandBuildVars(text: string, env: BuildEnv, field: string, { asName = false } = {}): string {
  return text.replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => {
    if (!(buildVars as readonly string[]).includes(name)) {
      throw new BadRequestError(`${field}: \${${name}} is not one of ${buildVars.map((v) => `\${${v}}`).join(', ')}`);
    }
    const value = env[name as (typeof buildVars)[number]];
    if (value === undefined || value === '')
      throw new BadRequestError(`${field}: \${${name}} is not set in this step's environment`);
    return asName ? nameSafe(value) : value;
  });
}

function namespaceOf(source: Source, params: OutParams, env: BuildEnv): NamespaceChoice {
  if (params.namespace_file !== undefined) return { file: params.namespace_file };
  if (params.namespace === undefined) return namespaceOfSource(source);
  const expanded = expandBuildVars(params.namespace, env, 'params.namespace', { asName: true });
  return { name: checkNamespaceName(expanded, 'params.namespace', ' (after expanding build variables)') };
}

function hostOf(params: OutParams, env: BuildEnv): string | undefined {
  if (params.host === undefined) return undefined;
  const host = expandBuildVars(params.host, env, 'params.host', { asName: true });
  if (!dns1123Subdomain.test(host) || host.length > 253) {
    throw new BadRequestError(`params.host: ${quote(host)} (after expanding build variables) is not a valid host name`);
  }
  return host;
}

function imageOf(params: OutParams): DeployPlan['image'] {
  if (params.image !== undefined) return { dir: params.image };
  const ref = parseImageReference(params.image_ref!);
  if (!ref)
    throw new BadRequestError(
      'params.image_ref: not a valid image reference (e.g. registry.example.com/team/app:1.2.3 or …@sha256:…)',
    );
  return { ref };
}

/** snake_case params → the render's camelCase sources (`config_map` → `configMap`). */
function envOf(env: OutParams['env']): RenderParams['env'] {
  return Object.fromEntries(
    Object.entries(env).map(([name, source]) => {
      if (typeof source === 'string' || !('config_map' in source)) return [name, source];
      const { config_map: configMap, ...rest } = source;
      return [name, { configMap, ...rest }];
    }),
  );
}

function envFromOf(envFrom: OutParams['env_from']): NonNullable<RenderParams['envFrom']> {
  return envFrom.map((source) => {
    if (!('config_map' in source)) return source;
    const { config_map: configMap, ...rest } = source;
    return { configMap, ...rest };
  });
}

/** A sweep takes only timeout and dry_run besides its own block. */
function sweepPlan(
  source: Source,
  params: OutParams,
  sweep: NonNullable<OutParams['sweep']>,
  given: string[],
): SweepPlan {
  const others = given.filter((key) => !['sweep', 'timeout', 'dry_run'].includes(key));
  if (others.length)
    throw new BadRequestError(
      `${others.map((k) => `params.${k}`).join(', ')}: ` +
        'cannot be combined with params.sweep (only timeout and dry_run can)',
    );
  return {
    source,
    app: source.app,
    timeoutMs: parseDuration(params.timeout)!,
    action: 'sweep',
    olderThanMs: parseDuration(sweep.older_than)!,
    keep: sweep.keep,
    dryRun: params.dry_run,
    namespacePrefix: sweep.namespace_prefix,
  };
}

/** A redeploy takes everything from the recorded revision: no param that shapes a release may come with it. */
function redeployRevision(params: OutParams, given: string[]): RedeployPlan['revision'] {
  const shaping = releaseShapingParams.filter((key) => given.includes(key));
  if (shaping.length) {
    const by = params.revision !== undefined ? 'params.revision' : 'params.revision_file';
    throw new BadRequestError(
      `${shaping.map((k) => `params.${k}`).join(', ')}: cannot be combined with ${by} ` +
        '(a redeploy takes the image and every object from the recorded revision)',
    );
  }
  return params.revision !== undefined ? { number: Number(params.revision) } : { file: params.revision_file! };
}

/** The params that shape the rendered Deployment, Service and Ingress, as the render takes them. */
function renderParamsOf(params: OutParams, env: BuildEnv): RenderParams {
  return {
    replicas: params.replicas,
    port: params.port,
    servicePort: params.service_port,
    env: envOf(params.env),
    ...(params.env_from.length ? { envFrom: envFromOf(params.env_from) } : {}),
    ...(params.image_pull_secrets.length ? { imagePullSecrets: params.image_pull_secrets } : {}),
    ...(params.service_account ? { serviceAccount: params.service_account } : {}),
    ...(params.args ? { args: params.args } : {}),
    labels: params.labels,
    annotations: params.annotations,
    ...(params.resources ? { resources: params.resources } : {}),
    ...(params.readiness_path ? { readinessPath: params.readiness_path } : {}),
    ...(params.host !== undefined ? { host: hostOf(params, env) } : {}),
    path: params.path,
    ...(params.ingress_class ? { ingressClass: params.ingress_class } : {}),
    ...(params.tls_secret ? { tlsSecret: params.tls_secret } : {}),
    ingressAnnotations: params.ingress_annotations,
    securityContext: params.security_context,
  };
}

/** The raw request (stdin JSON) → a plan; every error is a BadRequestError naming the field. */
export function planPut(raw: unknown, env: BuildEnv): PutPlan {
  const { source, params } = parseOutRequest(raw);
  const given = Object.keys((raw as { params?: Record<string, unknown> }).params ?? {});
  if (params.sweep) return sweepPlan(source, params, params.sweep, given);
  const base: PlanBase = {
    source,
    app: source.app,
    namespace: namespaceOf(source, params, env),
    timeoutMs: parseDuration(params.timeout)!,
  };
  if (params.delete)
    return { ...base, action: 'teardown', deleteNamespace: params.delete_namespace, keepVolumes: params.keep_volumes };

  const options: DeployOptions = {
    createNamespace: params.create_namespace,
    mode: params.mode,
    wait: params.wait,
    prune: params.prune,
    onFailure: params.on_failure,
    dryRun: params.dry_run,
    restart: params.restart,
  };
  if (params.revision !== undefined || params.revision_file !== undefined)
    return { ...base, ...options, action: 'redeploy', revision: redeployRevision(params, given) };
  return {
    ...base,
    ...options,
    action: 'deploy',
    image: imageOf(params),
    manifests: params.manifests,
    patches: params.patches,
    render: renderParamsOf(params, env),
  };
}
