// Redeploy: the objects recorded for an earlier revision, exactly (image, generated objects, extra manifests with
// their real Secret values), as the content of a new put.
import { ApiRejectedError } from '../errors.js';
import type { ReleaseContent } from './release.js';
import { decodeRecord, listRecords, recordKey, recordRevision, recordStatus } from './records.js';
import type { ReleaseTarget } from './target.js';

export async function readRecordedRelease(target: ReleaseTarget, revision: number): Promise<ReleaseContent> {
  const { cluster, namespace, app } = target;
  const secret = await cluster.read(recordKey(namespace, app, revision));
  if (!secret || recordStatus(secret) !== 'deployed') {
    const deployed = (await listRecords(cluster, namespace, app))
      .filter((r) => recordStatus(r) === 'deployed')
      .map(recordRevision);
    const why = !secret
      ? 'does not exist (never deployed, or pruned by history_limit)'
      : `is recorded as ${recordStatus(secret) ?? 'unknown'}, not deployed`;
    const known = deployed.length
      ? `revisions that can be redeployed: ${deployed.join(', ')}`
      : 'no revision of it is recorded there';
    throw new ApiRejectedError(`revision ${revision} of ${app} in namespace ${namespace} ${why}; ${known}`, 404);
  }
  const record = decodeRecord(secret);
  target.log.info(`read revision ${revision} of ${app}: ${record.image.ref}, ${record.objects.length} objects`);
  return {
    image: record.image,
    objects: record.objects,
    build: record.build,
    ...(record.url ? { url: record.url } : {}),
    redeployedFrom: revision,
  };
}
