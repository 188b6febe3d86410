// `in` (get): writes the recorded release (manifests.yml and the image in the registry-image layout) to the
// destination dir. After a delete (or a dry run before the first deploy) it writes a marker instead, so the implicit
// get after the put succeeds.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { resolveClusterAuth } from '../cluster/auth.js';
import { decodeRecord, recordName, recordStatus } from '../engine/records.js';
import { ApiRejectedError, BadRequestError } from '../errors.js';
import { releaseFiles } from '../output/files.js';
import { metadataList, type VersionResponse } from '../output/version.js';
import { parseWith } from '../request/issues.js';
import { inRequestSchema } from '../request/schemas.js';
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

/** The build annotations as metadata fields: build_pipeline, build_job, build_name, build_url. */
function buildMetadata(build: Record<string, string>): Record<string, string> {
  const names: Record<string, string> = {
    pipeline: 'build_pipeline',
    job: 'build_job',
    build: 'build_name',
    'build-url': 'build_url',
  };
  return Object.fromEntries(
    Object.entries(build).map(([key, value]) => [names[key.replace(/^.*\//, '')] ?? key, value]),
  );
}

export async function get(request: unknown, destination: string, deps: CommandDeps): Promise<VersionResponse> {
  const { source, version } = parseWith(inRequestSchema, request);
  if (version.deleted === 'true') {
    const metadata = {
      app: version.app,
      namespace: version.namespace,
      deleted: 'true',
      last_revision: version.revision,
    };
    await writeAll(destination, {
      deleted: 'true\n',
      app: version.app,
      namespace: version.namespace,
      'metadata.json': JSON.stringify({ version, ...metadata }, null, 2) + '\n',
    });
    deps.log.info(
      `release ${version.app} in namespace ${version.namespace} was deleted; wrote the marker file "deleted"`,
    );
    return { version, metadata: metadataList(metadata) };
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
  const cluster = connectWith(deps, auth);
  const revision = Number(version.revision);
  const secret = await cluster.read({
    apiVersion: 'v1',
    kind: 'Secret',
    namespace: version.namespace,
    name: recordName(version.app, revision),
  });
  if (!secret || recordStatus(secret) !== 'deployed') {
    throw new ApiRejectedError(
      `revision ${version.revision} of ${version.app} in namespace ${version.namespace} no longer exists ` +
        '(deleted, pruned by history_limit, or never deployed)',
      404,
    );
  }
  const record = decodeRecord(secret);
  const files = releaseFiles(record);
  const metadata = {
    app: record.app,
    namespace: record.namespace,
    revision: record.revision,
    image: record.image.ref,
    url: record.url,
    objects: record.objects.length,
    deployed_at: record.createdAt,
    ...buildMetadata(record.build),
  };
  await writeAll(destination, { ...files, 'metadata.json': JSON.stringify({ version, ...metadata }, null, 2) + '\n' });
  deps.log.info(
    `wrote release ${record.app} revision ${record.revision} (${record.objects.length} objects) ` +
      `to ${path.basename(destination)}/manifests.yml`,
  );
  return { version, metadata: metadataList(metadata) };
}
