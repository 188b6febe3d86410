// `out` (put): deploy a release, or tear it down with `delete: true`.
import { resolveClusterAuth } from '../cluster/auth.js';
import { deployRelease } from '../engine/deploy.js';
import { encodeRecord } from '../engine/records.js';
import { teardownRelease } from '../engine/teardown.js';
import { BadRequestError } from '../errors.js';
import { parseExtraManifests } from '../manifests/extra.js';
import { imageReference, parseImageReference, type ImageRef } from '../manifests/image.js';
import { renderManifests } from '../manifests/render.js';
import { objectRef } from '../manifests/types.js';
import { buildAnnotations } from '../output/build-env.js';
import { metadataList, releaseUrl, type VersionResponse } from '../output/version.js';
import { formatDuration, parseDuration } from '../request/duration.js';
import { dns1123Label, dns1123Subdomain } from '../request/names.js';
import { parseOutRequest, quote } from '../request/parse.js';
import type { OutParams, Source } from '../request/schemas.js';
import { expandBuildVars, readImageDir, readManifestFiles, readNamespaceFile } from '../request/sources.js';
import { connectWith, type CommandDeps } from './context.js';

async function targetNamespace(source: Source, params: OutParams, sourcesDir: string, deps: CommandDeps): Promise<string> {
  if (params.namespace_file !== undefined) {
    const ns = await readNamespaceFile(sourcesDir, params.namespace_file);
    if (!dns1123Label.test(ns) || ns.length > 63) throw new BadRequestError(`params.namespace_file: holds ${quote(ns)}, not a valid namespace name`);
    return ns;
  }
  if (params.namespace === undefined) return source.namespace;
  const ns = expandBuildVars(params.namespace, deps.env as Record<string, string>, 'params.namespace');
  if (!dns1123Label.test(ns) || ns.length > 63) {
    throw new BadRequestError(`params.namespace: ${quote(ns)} (after expanding build variables) is not a valid namespace name (lowercase letters, digits and -, at most 63)`);
  }
  return ns;
}

async function imageOf(params: OutParams, sourcesDir: string): Promise<ImageRef> {
  if (params.image !== undefined) return readImageDir(sourcesDir, params.image);
  const parsed = parseImageReference(params.image_ref!);
  if (!parsed) throw new BadRequestError('params.image_ref: not a valid image reference (e.g. registry.example.com/team/app:1.2.3 or …@sha256:…)');
  return parsed;
}

/** "pipeline/job #build" when Concourse says, else this process. */
function holderOf(deps: CommandDeps): string {
  const { BUILD_PIPELINE_NAME: pipeline, BUILD_JOB_NAME: job, BUILD_NAME: build } = deps.env;
  const who = pipeline && job ? `${pipeline}/${job}${build ? ` #${build}` : ''}` : build ? `build ${build}` : 'a put';
  return deps.processId !== undefined ? `${who} (pid ${deps.processId})` : who;
}

export async function out(request: unknown, sourcesDir: string, deps: CommandDeps): Promise<VersionResponse> {
  const { source, params } = parseOutRequest(request);
  const now = (deps.now ?? (() => new Date()))();
  const auth = resolveClusterAuth(source, now);
  const app = source.app;
  const namespace = await targetNamespace(source, params, sourcesDir, deps);
  const timeoutMs = parseDuration(params.timeout)!;

  if (params.delete) {
    const cluster = connectWith(deps, auth);
    deps.log.info(`deleting release ${app} from namespace ${namespace} on ${cluster.server}`);
    const result = await teardownRelease({ cluster, log: deps.log, signal: deps.signal, clock: deps.clock, app, namespace, deleteNamespace: params.delete_namespace, keepVolumes: params.keep_volumes, timeoutMs, holder: holderOf(deps) });
    deps.log.info(`release ${app} deleted from namespace ${namespace} (${result.deleted.length} objects)`);
    return {
      version: { app, namespace, revision: String(result.lastRevision ?? 0), image: result.lastImage ?? '', deleted: 'true' },
      metadata: metadataList({
        namespace,
        app,
        deleted: result.deleted.join(', ') || 'nothing (already gone)',
        left_alone: result.leftAlone.join(', '),
        volumes_kept: params.keep_volumes ? result.keptVolumes.join(', ') || 'none' : undefined,
        namespace_deleted: params.delete_namespace ? String(result.namespaceDeleted) : undefined,
      }),
    };
  }

  // Everything the request holds is read and checked before the first cluster call.
  const image = await imageOf(params, sourcesDir);
  const host = params.host === undefined ? undefined : expandBuildVars(params.host, deps.env as Record<string, string>, 'params.host');
  if (host !== undefined && (!dns1123Subdomain.test(host) || host.length > 253)) {
    throw new BadRequestError(`params.host: ${quote(host)} (after expanding build variables) is not a valid host name`);
  }
  const files = await readManifestFiles(sourcesDir, params.manifests);
  const extraObjects = parseExtraManifests(files, namespace, ['Deployment', 'Service', ...(host ? ['Ingress'] : [])].map((k) => `${k}/${app}`));
  const build = buildAnnotations(deps.env);
  const objects = renderManifests({
    app,
    namespace,
    image,
    replicas: params.replicas,
    port: params.port,
    servicePort: params.service_port,
    env: params.env,
    args: params.args,
    labels: params.labels,
    annotations: params.annotations,
    resources: params.resources,
    readinessPath: params.readiness_path,
    host,
    path: params.path,
    ingressClass: params.ingress_class,
    tlsSecret: params.tls_secret,
    ingressAnnotations: params.ingress_annotations,
    extraObjects,
    buildAnnotations: build,
  });
  const ref = imageReference(image);
  const url = releaseUrl(host, params.path, params.tls_secret !== undefined);
  // Fails here, before anything is written, when the release is too large to record.
  const recordDraft = { app, namespace, revision: 0, image: { ...image, ref }, objects, build, createdAt: now.toISOString(), contentHash: '' };
  encodeRecord(recordDraft, 'pending');

  const cluster = connectWith(deps, auth);
  deps.log.info(`deploying ${ref} as release ${app} to namespace ${namespace} on ${cluster.server} (${params.mode})`);
  const result = await deployRelease({
    cluster,
    log: deps.log,
    signal: deps.signal,
    clock: deps.clock,
    app,
    namespace,
    createNamespace: params.create_namespace,
    mode: params.mode,
    wait: params.wait,
    timeoutMs,
    historyLimit: source.history_limit,
    objects,
    image: { ...image, ref },
    ...(url ? { url } : {}),
    build,
    now,
    holder: holderOf(deps),
  });
  deps.log.info(`release ${app} revision ${result.revision} is live in namespace ${namespace}${url ? ` at ${url}` : ''}`);
  return {
    version: { app, namespace, revision: String(result.revision), image: ref },
    metadata: metadataList({
      namespace,
      app,
      revision: result.revision,
      image: ref,
      objects: objects.map(objectRef).join(', '),
      url,
      rollout_duration: result.rolloutMs !== undefined ? formatDuration(result.rolloutMs) : params.wait ? undefined : 'not waited (wait: false)',
      mode: params.mode,
    }),
  };
}
