// Sweep: tear down the per-build releases of an app that leaked (a build errored before its teardown, a worker died),
// in every namespace this resource created for the app whose newest record is older than a given age. Each goes with
// the same teardown as `delete: true, delete_namespace: true`. Everything else is left alone and reported.
import type { ClusterApi } from '../cluster/api.js';
import { ApiRejectedError } from '../errors.js';
import { labelKeys, managedBy } from '../kube/labels.js';
import type { KubeObject } from '../kube/object.js';
import { formatDuration } from '../time.js';
import { mapBounded } from './bounded.js';
import { createdByUs } from './namespace.js';
import { recordLabel, tryDecodeRecord } from './records.js';
import type { ReleaseTarget } from './target.js';
import { teardownRelease } from './teardown.js';

export interface SweepInput extends Omit<ReleaseTarget, 'namespace'> {
  olderThanMs: number;
  /** How many of the newest eligible releases to keep. */
  keep: number;
  dryRun: boolean;
}

export interface SweepResult {
  swept: string[];
  kept: string[];
  /** "namespace (why)" for every namespace with something of the app that was not swept, and those we may not read. */
  leftAlone: string[];
}

interface Finding {
  namespace: string;
  /** ms since epoch of the newest record (or of the namespace when it holds none). */
  lastDeployed?: number;
  why?: string;
}

const isForbidden = (error: unknown) => error instanceof ApiRejectedError && error.status === 403;

/** What one namespace holds of the app, and whether it may go. */
async function examine(cluster: ClusterApi, ns: KubeObject, app: string): Promise<Finding | undefined> {
  const namespace = ns.metadata.name;
  if ((ns as { status?: { phase?: string } }).status?.phase === 'Terminating') return undefined;
  let records: KubeObject[];
  try {
    // Every record of any app of this resource: ours tell the age, others say the namespace is shared.
    records = (
      await cluster.list('v1', 'Secret', namespace, `${recordLabel.release},${labelKeys.managedBy}=${managedBy}`)
    ).items;
  } catch (error) {
    if (isForbidden(error)) return createdByUs(ns, app) ? { namespace, why: 'may not list secrets' } : undefined;
    throw error;
  }
  const mine = records.filter((r) => r.metadata.labels?.[recordLabel.release] === app);
  const others = [
    ...new Set(records.map((r) => r.metadata.labels?.[recordLabel.release]).filter((a) => a && a !== app)),
  ];
  if (!createdByUs(ns, app))
    return mine.length ? { namespace, why: `not created by this resource for ${app}` } : undefined;
  if (others.length) return { namespace, why: `shared with ${others.map((a) => `app ${a}`).join(', ')}` };
  const times = mine.map((r) => Date.parse(tryDecodeRecord(r)?.createdAt ?? '')).filter(Number.isFinite);
  const created = Date.parse(String(ns.metadata.creationTimestamp ?? ''));
  const lastDeployed = times.length ? Math.max(...times) : Number.isFinite(created) ? created : undefined;
  return lastDeployed === undefined ? { namespace, why: 'age unknown' } : { namespace, lastDeployed };
}

export async function sweepReleases(input: SweepInput): Promise<SweepResult> {
  const { cluster, log, app, clock } = input;
  let namespaces: KubeObject[];
  try {
    namespaces = (await cluster.list('v1', 'Namespace', undefined)).items;
  } catch (error) {
    if (isForbidden(error))
      throw new ApiRejectedError(
        'sweep: the credentials may not list namespaces (needs cluster-wide list on namespaces): ' +
          `${(error as Error).message}`,
        403,
      );
    throw error;
  }
  const findings = (await mapBounded(namespaces, 8, (ns) => examine(cluster, ns, app))).filter(
    (f): f is Finding => f !== undefined,
  );
  const leftAlone = findings.filter((f) => f.why).map((f) => `${f.namespace} (${f.why})`);
  for (const line of leftAlone) log.info(`sweep: left alone ${line}`);

  const now = clock.now();
  const eligible = findings
    .filter((f) => f.lastDeployed !== undefined && !f.why)
    .sort((a, b) => b.lastDeployed! - a.lastDeployed!);
  const kept = eligible.slice(0, input.keep);
  const old = eligible.slice(input.keep).filter((f) => now - f.lastDeployed! > input.olderThanMs);
  const young = eligible.slice(input.keep).filter((f) => now - f.lastDeployed! <= input.olderThanMs);
  for (const f of kept)
    log.info(
      `sweep: keeping ${f.namespace} (one of the ${input.keep} newest; ` +
        `last deployed ${formatDuration(now - f.lastDeployed!)} ago)`,
    );
  for (const f of young)
    log.info(`sweep: keeping ${f.namespace} (last deployed ${formatDuration(now - f.lastDeployed!)} ago)`);

  const swept: string[] = [];
  for (const f of old) {
    const age = formatDuration(now - f.lastDeployed!);
    if (input.dryRun) {
      log.info(`sweep: would tear down release ${app} and namespace ${f.namespace} (last deployed ${age} ago)`);
      swept.push(f.namespace);
      continue;
    }
    log.info(`sweep: tearing down release ${app} and namespace ${f.namespace} (last deployed ${age} ago)`);
    try {
      const result = await teardownRelease({ ...input, namespace: f.namespace, deleteNamespace: true });
      if (result.namespaceDeleted || result.deleted.length) swept.push(f.namespace);
      else leftAlone.push(`${f.namespace} (nothing deleted)`);
    } catch (error) {
      // One namespace we may not delete does not stop the others; the deadline does.
      if (!isForbidden(error)) throw error;
      log.warn(`sweep: may not delete in namespace ${f.namespace}: ${(error as Error).message}`);
      leftAlone.push(`${f.namespace} (may not delete)`);
    }
  }
  return { swept, kept: [...kept, ...young].map((f) => f.namespace), leftAlone };
}
