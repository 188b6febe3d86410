// `in` (get): writes the release a version names (manifests.yml and the image in the registry-image layout) to the
// destination dir. A version whose release is gone (torn down, swept, pruned from the history, its revision number
// used again by another release) is not an error: `in` writes what the version itself carries, the image included,
// and a file `gone` saying why there are no manifests, so that the implicit get after a teardown passes and the next
// job's get of either version can still promote its image.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ClusterApi } from '../cluster/api.js';
import { resolveClusterAuth } from '../cluster/auth.js';
import {
  decodeRecord,
  listRecords,
  recordKey,
  recordRevision,
  recordStatus,
  type ReleaseRecord,
} from '../engine/records.js';
import { BadRequestError } from '../errors.js';
import { buildAnnotationFields } from '../output/build-env.js';
import { goneFiles, releaseFiles } from '../output/files.js';
import { metadataList, type VersionResponse } from '../output/version.js';
import type { InRequest } from '../request/parse.js';
import type { Version } from '../request/schemas.js';
import { systemClock } from '../time.js';
import { connectWith, type CommandDeps } from './context.js';

async function writeAll(dir: string, files: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true }).catch((error: NodeJS.ErrnoException) => {
    throw new BadRequestError(
      `the destination ${dir} is not a directory we can write to (${error.code ?? error.message})`,
    );
  });
  await Promise.all(Object.entries(files).map(([name, content]) => writeFile(path.join(dir, name), content)));
}

/** The build annotations of a record as metadata fields (build_pipeline, build_job, …); other keys are left out. */
function buildMetadata(build: Record<string, unknown>): Record<string, string> {
  const fields: Record<string, string> = buildAnnotationFields;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(build)) {
    const field = fields[key.replace(/^.*\//, '')];
    if (field && typeof value === 'string') out[field] = value;
  }
  return out;
}

export async function get(request: InRequest, destination: string, deps: CommandDeps): Promise<VersionResponse> {
  const { source, version } = request;
  if (version.deleted === 'true') {
    const { app, namespace, revision } = version;
    const reason =
      namespace === '*'
        ? `this is the version of a sweep of ${app}, which spans namespaces: there is no one release to write`
        : revision === '0'
          ? `the put that reported this version (delete: true) found no release of ${app} in namespace ${namespace}`
          : `release ${app} was torn down from namespace ${namespace} by the put that reported this version ` +
            `(delete: true); its last revision was ${revision}`;
    return writeGone(destination, version, reason, deps);
  }

  if (version.revision === '0') {
    // A dry run before the first deploy reports revision 0: there is no release to write yet.
    const metadata = { app: version.app, namespace: version.namespace, revision: '0', deployed: 'nothing yet' };
    await writeAll(destination, {
      app: version.app,
      namespace: version.namespace,
      revision: '0',
      'metadata.json': JSON.stringify({ version, ...metadata }, null, 2) + '\n',
    });
    deps.log.info(
      `nothing of ${version.app} is deployed in namespace ${version.namespace} yet ` +
        '(revision 0, from a dry run); wrote no manifests',
    );
    return { version, metadata: metadataList(metadata) };
  }

  const auth = resolveClusterAuth(source, new Date((deps.clock ?? systemClock).now()));
  const found = await findRelease(connectWith(deps, auth), version);
  if ('gone' in found) return writeGone(destination, version, found.gone, deps);
  const { record } = found;
  const files = releaseFiles(record);
  const metadata = {
    app: record.app,
    namespace: record.namespace,
    revision: record.revision,
    image: record.image.ref,
    url: record.url,
    objects: record.objects.length,
    deployed_at: record.createdAt,
    ...buildMetadata(record.build ?? {}),
  };
  await writeAll(destination, { ...files, 'metadata.json': JSON.stringify({ version, ...metadata }, null, 2) + '\n' });
  deps.log.info(
    `wrote release ${record.app} revision ${record.revision} (${record.objects.length} objects) ` +
      `to ${path.basename(destination)}/manifests.yml`,
  );
  return { version, metadata: metadataList(metadata) };
}

/**
 * The record of exactly the release the version names, or why there is none. The record must be deployed and carry
 * the version's image: after a teardown the next put into the namespace starts at revision 1 again, and handing over
 * that release for an old version would promote an image nobody tested.
 */
async function findRelease(
  cluster: ClusterApi,
  version: Version,
): Promise<{ record: ReleaseRecord } | { gone: string }> {
  const { app, namespace } = version;
  const revision = Number(version.revision);
  const secret = await cluster.read(recordKey(namespace, app, revision));
  if (!secret) return { gone: await whyMissing(cluster, version, revision) };
  const status = recordStatus(secret);
  if (status !== 'deployed') {
    const shown = status === 'failed' || status === 'pending' ? status : 'neither deployed nor failed';
    return { gone: `revision ${revision} of ${app} in namespace ${namespace} is recorded as ${shown}, not deployed` };
  }
  // decodeRecord refuses a record whose app, namespace or revision is not what its Secret (read by that name) says.
  const record = decodeRecord(secret);
  if (record.image.ref !== version.image) {
    return {
      gone:
        `revision ${revision} of ${app} in namespace ${namespace} is now another release (${record.image.ref}, ` +
        `deployed ${record.createdAt}): the release of this version was torn down or swept and the revision ` +
        'numbers started again',
    };
  }
  return { record };
}

/** Why a deployed version's record is missing, from the records of the app that are left. */
async function whyMissing(cluster: ClusterApi, version: Version, revision: number): Promise<string> {
  const { app, namespace } = version;
  const left = (await listRecords(cluster, namespace, app)).map(recordRevision).filter(Number.isFinite);
  const where = `of ${app} in namespace ${namespace}`;
  if (left.length === 0)
    return `no record ${where} is left: the release was torn down or swept (its namespace may be gone too)`;
  const oldest = Math.min(...left);
  const newest = Math.max(...left);
  if (oldest > revision)
    return `revision ${revision} was pruned from the history ${where} (history_limit; the oldest left is ${oldest})`;
  if (newest < revision)
    return `revision ${revision} ${where} is gone: the release was torn down and deployed again (newest: ${newest})`;
  return `the record of revision ${revision} ${where} was deleted`;
}

/** What a version carries, and the marker `gone`; a teardown's version also gets the marker `deleted` it always had. */
async function writeGone(
  destination: string,
  version: Version,
  reason: string,
  deps: CommandDeps,
): Promise<VersionResponse> {
  const deleted = version.deleted === 'true';
  const files = goneFiles(version, reason);
  const metadata = {
    app: version.app,
    namespace: version.namespace,
    ...(deleted ? { deleted: 'true', last_revision: version.revision } : { revision: version.revision }),
    image: version.image,
    gone: reason,
  };
  await writeAll(destination, {
    ...files,
    ...(deleted ? { deleted: 'true\n' } : {}),
    'metadata.json': JSON.stringify({ version, ...metadata }, null, 2) + '\n',
  });
  const image = files.image ? `; wrote its image ${files.image}` : '';
  deps.log.info(`no manifests: ${reason}${image} and the marker file "gone"`);
  return { version, metadata: metadataList(metadata) };
}
