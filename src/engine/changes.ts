// The put's decisions, pure: from what is there (records, the last deployed release) and the release to put, which
// revision it is, whether it reuses one, the record to write, the apply order and the history to drop. No cluster
// call here: deploy and dry run read the same state and take the same decisions from it.
import type { ObjectMetadata } from '../cluster/api.js';
import type { KubeObject } from '../kube/object.js';
import type { ReleaseContent } from './deploy.js';
import { contentHash, recordRevision, type ReleaseRecord } from './records.js';

export interface RecordState {
  /** The release's records, oldest first (metadata: revision and status). */
  records: ObjectMetadata[];
  /** The newest revision that rolled out, decoded. */
  lastDeployed?: ReleaseRecord;
}

export interface RecordChange {
  revision: number;
  /** The same image and objects as the last deployed revision (mode apply): re-applied, nothing new recorded. */
  reused: boolean;
  record: ReleaseRecord;
}

/** The revision a put takes and the record it writes (or, reused, the one it re-applies). */
export function planRecord(
  state: RecordState,
  release: ReleaseContent,
  options: { app: string; namespace: string; mode: 'apply' | 'create'; now: Date },
): RecordChange {
  const { app, namespace } = options;
  const hash = contentHash(release.image.ref, release.objects);
  const reusable =
    options.mode === 'apply' && state.lastDeployed?.contentHash === hash ? state.lastDeployed : undefined;
  const revision = reusable
    ? reusable.revision
    : Math.max(0, ...state.records.map(recordRevision).filter(Number.isFinite)) + 1;
  const record: ReleaseRecord = {
    app,
    namespace,
    revision,
    image: release.image,
    objects: release.objects,
    ...(release.url ? { url: release.url } : {}),
    build: release.build,
    createdAt: options.now.toISOString(),
    contentHash: hash,
    ...(release.redeployedFrom !== undefined ? { redeployedFrom: release.redeployedFrom } : {}),
  };
  return { revision, reused: reusable !== undefined, record };
}

/** The app's own Deployment, Service and Ingress: applied last, after everything they may depend on. */
export const isOwnObject = (o: KubeObject, app: string) =>
  o.metadata.name === app && ['Deployment', 'Service', 'Ingress'].includes(o.kind);

/**
 * Consecutive runs of the same kind (extra manifests come sorted by kind), then the app's own Deployment, Service and
 * Ingress as one last group. Extras cannot take those names (parseExtraManifests reserves them).
 */
export function applyGroups(objects: KubeObject[], app: string): KubeObject[][] {
  const groups: KubeObject[][] = [];
  for (const object of objects.filter((o) => !isOwnObject(o, app))) {
    const last = groups.at(-1);
    if (last && last[0]!.kind === object.kind) last.push(object);
    else groups.push([object]);
  }
  const own = objects.filter((o) => isOwnObject(o, app));
  return own.length ? [...groups, own] : groups;
}

/** The records a put that writes a new one drops: of those listed before it, all but the newest `limit` - 1. */
export function historyToDrop(before: ObjectMetadata[], limit: number): ObjectMetadata[] {
  return before.slice(0, Math.max(0, before.length - (limit - 1)));
}
