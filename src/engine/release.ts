// A new release: what a deploy plan describes (image, rendered objects, extra manifests), read from the put's inputs
// and checked before the first cluster call.
import type { KubeObject } from '../kube/object.js';
import { parseExtraManifests } from '../manifests/extra.js';
import { imageReference, type ImageRef } from '../manifests/image.js';
import { parsePatches } from '../manifests/patches.js';
import { renderManifests } from '../manifests/render.js';
import type { DeployPlan } from '../request/plan.js';
import { readImageDir, readManifestFiles } from '../sources/read.js';
import { encodeRecord } from './records.js';

/** What a revision holds: the image and every object, as recorded. */
export interface ReleaseContent {
  image: ImageRef & { ref: string };
  objects: KubeObject[];
  url?: string;
  build: Record<string, string>;
  /** Set when this content is an earlier revision deployed again. */
  redeployedFrom?: number;
}

/** Where the release answers, when it has an Ingress host. */
export function releaseUrl(host: string | undefined, path: string, tls: boolean): string | undefined {
  return host ? `${tls ? 'https' : 'http'}://${host}${path}` : undefined;
}

/**
 * The release a deploy plan describes: image, rendered objects and extra manifests, checked and recordable.
 * `build` is the build's annotations (BUILD_* of the put), stamped on every object and kept in the record.
 */
export async function newRelease(
  plan: DeployPlan,
  namespace: string,
  sourcesDir: string,
  build: Record<string, string>,
  now: number,
): Promise<ReleaseContent> {
  const image = 'ref' in plan.image ? plan.image.ref : await readImageDir(sourcesDir, plan.image.dir);
  const files = await readManifestFiles(sourcesDir, plan.manifests);
  const patchFiles = await readManifestFiles(sourcesDir, plan.patches, 'params.patches');
  const { host } = plan.render;
  const reserved = ['Deployment', 'Service', ...(host ? ['Ingress'] : [])].map((k) => `${k}/${plan.app}`);
  const objects = renderManifests({
    ...plan.render,
    app: plan.app,
    namespace,
    image,
    extraObjects: parseExtraManifests(files, namespace, reserved),
    buildAnnotations: build,
    patches: parsePatches(patchFiles, plan.app),
  });
  const url = releaseUrl(host, plan.render.path, plan.render.tlsSecret !== undefined);
  const content: ReleaseContent = {
    image: { ...image, ref: imageReference(image) },
    objects,
    build,
    ...(url ? { url } : {}),
  };
  // Fails here, before anything is written, when the release is too large to record.
  encodeRecord(
    { app: plan.app, namespace, revision: 0, ...content, createdAt: new Date(now).toISOString(), contentHash: '' },
    'pending',
  );
  return content;
}
