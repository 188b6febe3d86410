// Sweep: tear down the per-build releases of an app that leaked (a build errored before its teardown, a worker died).
// Its scope is narrow on purpose: namespaces whose name starts with the given prefix, that a put of this very resource
// created for the app (the scope stamp: cluster, source namespace, team, pipeline), that hold no other app's release,
// and that no put has targeted for `older_than` (the last-put stamp on the records: metadata only, nothing decoded).
// What it decided is checked again under the release lock before each teardown. Everything else is left alone.
import type { ClusterApi, ObjectMetadata } from '../cluster/api.js';
import { AbortedError, ApiRejectedError, TimedOutError } from '../errors.js';
import { labelKeys, managedBy } from '../kube/labels.js';
import type { KubeObject } from '../kube/object.js';
import { formatDuration } from '../time.js';
import { mapBounded } from './bounded.js';
import { createdByUs, type ResourceScope } from './namespace.js';
import { isWellFormedRecord, lastPutOf, recordLabel } from './records.js';
import type { ReleaseTarget } from './target.js';
import { teardownRelease } from './teardown.js';

export interface SweepInput extends Omit<ReleaseTarget, 'namespace'> {
  olderThanMs: number;
  /** How many of the newest eligible releases to keep. */
  keep: number;
  dryRun: boolean;
  /** Only namespaces whose name starts with this are looked at (params.sweep.namespace_prefix). */
  namespacePrefix: string;
  /** This resource: only namespaces it stamped when it created them are swept. */
  scope: ResourceScope;
}

export interface SweepResult {
  swept: string[];
  kept: string[];
  /** "namespace (why)" for every namespace with something of the app that was not swept, and those we may not read. */
  leftAlone: string[];
}

interface Finding {
  namespace: string;
  uid?: string;
  /** ms since epoch of the last put that targeted the release (or of the namespace when it holds no record). */
  lastPut?: number;
  why?: string;
}

const isForbidden = (error: unknown) => error instanceof ApiRejectedError && error.status === 403;
/** What ends the whole sweep rather than one namespace's teardown: the deadline, an abort. */
const endsTheSweep = (error: unknown) => error instanceof TimedOutError || error instanceof AbortedError;
const firstLine = (error: unknown) => (error as Error).message.split('\n')[0];

/** What one namespace holds of the app, and whether it may go: from metadata only. */
async function examine(cluster: ClusterApi, ns: KubeObject, input: SweepInput): Promise<Finding | undefined> {
  const { app, scope } = input;
  const namespace = ns.metadata.name;
  if ((ns as { status?: { phase?: string } }).status?.phase === 'Terminating') return undefined;
  const mineByLabel = createdByUs(ns, app);
  let records: ObjectMetadata[];
  try {
    // Every record of any app of this resource, as metadata only (nothing of a release is sent or decoded): ours tell
    // the age, others say the namespace is shared.
    records = (
      await cluster.listMetadata(
        'v1',
        'Secret',
        namespace,
        `${recordLabel.release},${labelKeys.managedBy}=${managedBy}`,
      )
    ).items;
  } catch (error) {
    if (endsTheSweep(error)) throw error;
    if (!mineByLabel) return undefined;
    return {
      namespace,
      why: isForbidden(error) ? 'may not list secrets' : `could not list secrets: ${firstLine(error)}`,
    };
  }
  const mine = records.filter((r) => r.metadata.labels?.[recordLabel.release] === app);
  const others = [
    ...new Set(records.map((r) => r.metadata.labels?.[recordLabel.release]).filter((a) => a && a !== app)),
  ];
  if (!mineByLabel) return mine.length ? { namespace, why: `not created by this resource for ${app}` } : undefined;
  if (!createdByUs(ns, app, scope))
    return { namespace, why: `created for ${app} by another resource (another pipeline, team, source or cluster)` };
  if (others.length) return { namespace, why: `shared with ${others.map((a) => `app ${a}`).join(', ')}` };
  const lastPut = lastPutIn(ns, mine, app);
  const uid = typeof ns.metadata.uid === 'string' ? ns.metadata.uid : undefined;
  return lastPut === undefined ? { namespace, why: 'age unknown' } : { namespace, lastPut, ...(uid ? { uid } : {}) };
}

/** The newest last-put of the app's records (only well-formed ones), else when the namespace was created. */
function lastPutIn(ns: KubeObject, records: ObjectMetadata[], app: string): number | undefined {
  const times = records
    .filter((r) => isWellFormedRecord(r, app))
    .map(lastPutOf)
    .filter((t): t is number => t !== undefined);
  if (times.length) return Math.max(...times);
  const created = Date.parse(String(ns.metadata.creationTimestamp ?? ''));
  return Number.isFinite(created) ? created : undefined;
}

export async function sweepReleases(input: SweepInput): Promise<SweepResult> {
  const { cluster, log, app, clock } = input;
  let namespaces: KubeObject[];
  try {
    // Only namespaces some put of this app created are candidates; those it did not create are looked at within the
    // prefix, to report a release there that a sweep will never touch.
    namespaces = (await cluster.list('v1', 'Namespace', undefined)).items.filter((ns) =>
      ns.metadata.name.startsWith(input.namespacePrefix),
    );
  } catch (error) {
    if (isForbidden(error))
      throw new ApiRejectedError(
        'sweep: the credentials may not list namespaces (needs cluster-wide list on namespaces): ' +
          `${(error as Error).message}`,
        403,
      );
    throw error;
  }
  const findings = (await mapBounded(namespaces, 8, (ns) => examine(cluster, ns, input))).filter(
    (f): f is Finding => f !== undefined,
  );
  const leftAlone = findings.filter((f) => f.why).map((f) => `${f.namespace} (${f.why})`);
  for (const line of leftAlone) log.info(`sweep: left alone ${line}`);

  const now = clock.now();
  const eligible = findings.filter((f) => f.lastPut !== undefined && !f.why).sort((a, b) => b.lastPut! - a.lastPut!);
  const kept = eligible.slice(0, input.keep);
  const old = eligible.slice(input.keep).filter((f) => now - f.lastPut! > input.olderThanMs);
  const young = eligible.slice(input.keep).filter((f) => now - f.lastPut! <= input.olderThanMs);
  const ago = (f: Finding) => `last put ${formatDuration(now - f.lastPut!)} ago`;
  for (const f of kept) log.info(`sweep: keeping ${f.namespace} (one of the ${input.keep} newest; ${ago(f)})`);
  for (const f of young) log.info(`sweep: keeping ${f.namespace} (${ago(f)})`);

  const swept: string[] = [];
  for (const f of old) {
    if (input.dryRun) {
      log.info(`sweep: would tear down release ${app} and namespace ${f.namespace} (${ago(f)})`);
      swept.push(f.namespace);
      continue;
    }
    log.info(`sweep: tearing down release ${app} and namespace ${f.namespace} (${ago(f)})`);
    try {
      const result = await teardownRelease({
        ...input,
        namespace: f.namespace,
        deleteNamespace: true,
        recheck: (held) => recheck(held, f, input),
      });
      if (result.skipped) leftAlone.push(`${f.namespace} (${result.skipped})`);
      else if (result.namespaceDeleted || result.deleted.length) swept.push(f.namespace);
      else leftAlone.push(`${f.namespace} (nothing deleted)`);
    } catch (error) {
      // One namespace that cannot be torn down (a 403, a conflict, a lost lock) does not stop the others; the
      // deadline and an abort do.
      if (endsTheSweep(error) || !(error instanceof ApiRejectedError)) throw error;
      log.warn(`sweep: could not tear down release ${app} in namespace ${f.namespace}: ${firstLine(error)}`);
      leftAlone.push(
        `${f.namespace} (${isForbidden(error) ? 'may not delete' : `could not tear down: ${firstLine(error)}`})`,
      );
    }
  }
  return { swept, kept: [...kept, ...young].map((f) => f.namespace), leftAlone };
}

/**
 * Under the release lock, right before the teardown: the namespace is still the one examined (uid), still stamped by
 * this resource for the app, still not shared, and still not targeted by a put for `older_than` (a put that landed
 * between the look and the lock keeps its release). Undefined: go on; else why not.
 */
async function recheck(cluster: ClusterApi, before: Finding, input: SweepInput): Promise<string | undefined> {
  const ns = await cluster.read({ apiVersion: 'v1', kind: 'Namespace', name: before.namespace });
  if (!ns || (before.uid !== undefined && ns.metadata.uid !== before.uid)) return 'replaced meanwhile';
  const now = await examine(cluster, ns, input);
  if (!now) return 'changed meanwhile';
  if (now.why) return now.why;
  const age = input.clock.now() - now.lastPut!;
  if (age <= input.olderThanMs) return `a put targeted it meanwhile (last put ${formatDuration(age)} ago)`;
  return undefined;
}
