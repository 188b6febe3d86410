// The put: namespace, ownership check, release record, apply (or create), rollout wait, record status, history.
import type { ClusterApi } from '../cluster/api.js';
import { ApiRejectedError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ImageRef } from '../manifests/image.js';
import { releaseSelector } from '../manifests/render.js';
import { objectRef, type KubeObject } from '../manifests/types.js';
import { systemClock, waitForRollout, type Clock } from '../rollout/wait.js';
import { mapBounded } from './bounded.js';
import { isJob, putJob } from './jobs.js';
import { acquireReleaseLock } from './lock.js';
import { ensureNamespace } from './namespace.js';
import { checkOwnership } from './ownership.js';
import { contentHash, decodeRecord, encodeRecord, recordLabel, recordName, recordRevision, recordSelector, recordStatus, type ReleaseRecord } from './records.js';

/** What every operation on a release works with. */
export interface ReleaseTarget {
  cluster: ClusterApi;
  log: Logger;
  signal?: AbortSignal;
  clock?: Clock;
  app: string;
  namespace: string;
  /** How long to wait (for the lock, the rollout, the teardown). */
  timeoutMs: number;
  /** Who holds the release's lock while this runs (shown to a concurrent put). */
  holder: string;
}

export interface DeployInput extends ReleaseTarget {
  createNamespace: boolean;
  mode: 'apply' | 'create';
  wait: boolean;
  historyLimit: number;
  objects: KubeObject[];
  image: ImageRef & { ref: string };
  url?: string;
  build: Record<string, string>;
  now: Date;
}

export interface DeployResult {
  revision: number;
  /** True when the same release was already recorded and nothing new was recorded. */
  reused: boolean;
  rolloutMs?: number;
  changes: { ref: string; change: 'created' | 'configured' | 'unchanged' | 'replaced' }[];
}

async function listRecords(cluster: ClusterApi, namespace: string, app: string): Promise<KubeObject[]> {
  const { items } = await cluster.list('v1', 'Secret', namespace, recordSelector(app));
  return items.sort((a, b) => recordRevision(a) - recordRevision(b));
}

export async function deployRelease(input: DeployInput): Promise<DeployResult> {
  const { cluster, log, namespace, app } = input;
  await ensureNamespace(cluster, namespace, input.createNamespace, app, log);
  const lock = await acquireReleaseLock(input);
  try {
    return await deployLocked(input);
  } finally {
    await lock.release();
  }
}

async function deployLocked(input: DeployInput): Promise<DeployResult> {
  const { cluster, log, namespace, app } = input;
  // Independent reads, at once: kinds the server knows, who owns the objects, the release's records.
  const [, existing, listed] = await Promise.all([
    checkKinds(cluster, input.objects),
    checkOwnership(cluster, input.objects, app, input.mode),
    listRecords(cluster, namespace, app),
  ]);
  // We hold the lock: a record still pending belongs to a put that was cut off (killed, or the cluster went away).
  const records = await mapBounded(listed, 4, async (record) => {
    if (recordStatus(record) !== 'pending') return record;
    const marked = await markRecord(cluster, { apiVersion: 'v1', kind: 'Secret', namespace, name: record.metadata.name }, 'failed');
    log.info(`marked revision ${recordRevision(record)} of ${app} failed: the put that wrote it did not finish`);
    return marked;
  });
  const hash = contentHash(input.image.ref, input.objects);
  const latestDeployed = records.filter((r) => recordStatus(r) === 'deployed').at(-1);
  const reused = input.mode === 'apply' && latestDeployed !== undefined && safeDecode(latestDeployed)?.contentHash === hash;
  const revision = reused ? recordRevision(latestDeployed!) : Math.max(0, ...records.map(recordRevision).filter(Number.isFinite)) + 1;
  const record: ReleaseRecord = {
    app,
    namespace,
    revision,
    image: input.image,
    objects: input.objects,
    ...(input.url ? { url: input.url } : {}),
    build: input.build,
    createdAt: input.now.toISOString(),
    contentHash: hash,
  };
  const recordKey = { apiVersion: 'v1', kind: 'Secret', namespace, name: recordName(app, revision) };
  if (!reused) {
    // Written first, as "pending": a put cut off half-way leaves a record that teardown finds, never a half-written one.
    await cluster.create(encodeRecord(record, 'pending'));
    log.info(`recording release ${app} revision ${revision} in namespace ${namespace}`);
  } else {
    log.info(`release ${app} revision ${revision} already has this image and these objects: re-applying it`);
  }

  try {
    const { changes, rolloutMs } = await applyAndWait(input, existing);
    if (!reused) await markRecord(cluster, recordKey, 'deployed');
    if (!reused) await pruneHistory(cluster, records, input.historyLimit, log);
    return { revision, reused, rolloutMs, changes };
  } catch (error) {
    // Whatever stopped the put (a failed rollout, a refused apply, an abort), the record says failed, never pending.
    if (!reused) await markRecord(cluster.detached(), recordKey, 'failed').catch(() => undefined);
    throw error;
  }
}

async function applyAndWait(input: DeployInput, existing: Map<string, KubeObject>): Promise<Pick<DeployResult, 'changes' | 'rolloutMs'>> {
  const { cluster, log, namespace, app } = input;
  const changes: DeployResult['changes'] = [];
  const write = (object: KubeObject) => (input.mode === 'create' ? cluster.create(object) : cluster.apply(object));
  const deadline = (input.clock ?? systemClock).now() + input.timeoutMs;
  const applyOne = async (object: KubeObject) => {
    const before = existing.get(objectRef(object));
    if (isJob(object)) {
      // Immutable once created: replaced when changed, left alone when complete (src/engine/jobs.ts).
      const jobInput = { cluster, log, write, deadline, timeoutMs: input.timeoutMs, clock: input.clock, signal: input.signal };
      const { change } = await putJob(jobInput, object, before);
      changes.push({ ref: objectRef(object), change });
      log.info(`${objectRef(object)} ${change}`);
      return;
    }
    const after = await write(object);
    const change = !before ? 'created' : before.metadata.resourceVersion === after.metadata.resourceVersion ? 'unchanged' : 'configured';
    changes.push({ ref: objectRef(object), change });
    log.info(`${objectRef(object)} ${change}`);
  };
  // In order of kind (objects are sorted so: dependencies first, the app's own objects last); objects of one kind
  // go together, a few at a time.
  for (const group of groupByKind(input.objects, app)) await mapBounded(group, 8, applyOne);
  if (!input.wait) return { changes };

  const deployments = input.objects.filter((o) => o.kind === 'Deployment' && o.apiVersion === 'apps/v1').map((o) => o.metadata.name);
  log.info(`waiting up to ${Math.round(input.timeoutMs / 1000)}s for ${deployments.map((d) => `deployment/${d}`).join(', ')} to roll out`);
  const { durationMs } = await waitForRollout({
    cluster,
    namespace,
    selector: releaseSelector(app),
    deployments,
    timeoutMs: input.timeoutMs,
    log,
    signal: input.signal,
    clock: input.clock,
  });
  return { changes, rolloutMs: durationMs };
}

/** Custom kinds are only known to the server: each must exist there and be namespaced, before anything is written. */
async function checkKinds(cluster: ClusterApi, objects: KubeObject[]): Promise<void> {
  const kinds = new Map(objects.map((o) => [`${o.apiVersion}/${o.kind}`, o]));
  for (const object of kinds.values()) {
    const namespaced = await cluster.isNamespaced(object.apiVersion, object.kind);
    if (namespaced === undefined) throw new ApiRejectedError(`params.manifests: the cluster does not know kind ${object.kind} in ${object.apiVersion} (${objectRef(object)}); is its CustomResourceDefinition installed?`, 404);
    if (!namespaced) throw new ApiRejectedError(`params.manifests: ${objectRef(object)} is cluster-scoped; a release holds only namespaced objects`, 422);
  }
}

/**
 * Consecutive runs of the same kind (extra manifests come sorted by kind), then the app's own Deployment, Service and
 * Ingress as one last group. Extras cannot take those names (parseExtraManifests reserves them).
 */
function groupByKind(objects: KubeObject[], app: string): KubeObject[][] {
  const isOwn = (o: KubeObject) => o.metadata.name === app && ['Deployment', 'Service', 'Ingress'].includes(o.kind);
  const groups: KubeObject[][] = [];
  for (const object of objects.filter((o) => !isOwn(o))) {
    const last = groups.at(-1);
    if (last && last[0]!.kind === object.kind) last.push(object);
    else groups.push([object]);
  }
  const own = objects.filter(isOwn);
  return own.length ? [...groups, own] : groups;
}

function safeDecode(secret: KubeObject): ReleaseRecord | undefined {
  try {
    return decodeRecord(secret);
  } catch {
    return undefined;
  }
}

function markRecord(cluster: ClusterApi, key: { apiVersion: string; kind: string; namespace: string; name: string }, status: 'deployed' | 'failed'): Promise<KubeObject> {
  return cluster.patchMetadata(key, { labels: { [recordLabel.status]: status } });
}

/** Keeps the newest `limit` records of the app: the ones listed before this put, and this put's own. */
async function pruneHistory(cluster: ClusterApi, before: KubeObject[], limit: number, log: Logger): Promise<void> {
  // This put's record is the newest and always kept: of the earlier ones, limit - 1 stay.
  const surplus = before.slice(0, Math.max(0, before.length - (limit - 1)));
  await mapBounded(surplus, 4, (r) => cluster.remove({ apiVersion: 'v1', kind: 'Secret', namespace: r.metadata.namespace, name: r.metadata.name }, 'Background'));
  if (surplus.length) log.info(`pruned ${surplus.length} old release record${surplus.length > 1 ? 's' : ''} (history_limit ${limit})`);
}

export { listRecords };
