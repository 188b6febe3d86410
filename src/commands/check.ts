// `check`: the deployed revisions of source.app in its namespace, oldest first, from the given version on.
import { resolveClusterAuth } from '../cluster/auth.js';
import { listRecords, recordImageAnnotation, recordRevision, recordStatus } from '../engine/records.js';
import type { CheckRequest } from '../request/parse.js';
import type { Version } from '../request/schemas.js';
import { systemClock } from '../time.js';
import { connectWith, releaseNamespace, type CommandDeps } from './context.js';

export async function check(request: CheckRequest, deps: CommandDeps): Promise<Version[]> {
  const { source, version } = request;
  const namespace = await releaseNamespace(request.namespace, deps);
  const auth = resolveClusterAuth(source, new Date((deps.clock ?? systemClock).now()));
  const cluster = connectWith(deps, auth);
  // No namespace read: listing in a missing namespace is simply empty, and check needs no rights beyond its namespace.
  const records = (await listRecords(cluster, namespace, source.app)).filter((r) => recordStatus(r) === 'deployed');
  const versions: Version[] = records.map((r) => ({
    app: source.app,
    namespace,
    revision: String(recordRevision(r)),
    image: r.metadata.annotations?.[recordImageAnnotation] ?? '',
  }));
  if (versions.length === 0) return [];
  // Concourse: the given version and everything after it while it still exists; else only the newest.
  const from =
    version && version.namespace === namespace && version.app === source.app
      ? versions.findIndex((v) => v.revision === version.revision)
      : -1;
  return from >= 0 ? versions.slice(from) : versions.slice(-1);
}
