// One put per release at a time: a coordination.k8s.io Lease per app and namespace, as Kubernetes components elect
// leaders. A second put waits for the first (progress lines) until `timeout`; a holder that died is taken over once
// its lease has expired.
import type { ClusterApi } from '../cluster/api.js';
import { ApiRejectedError } from '../errors.js';
import type { Logger } from '../log.js';
import { labelKeys, managedBy } from '../kube/labels.js';
import type { KubeObject } from '../kube/object.js';
import { appliedAt } from '../rollout/snapshot.js';
import { pollUntil, type Clock, type Deadline } from '../time.js';

export interface ReleaseLock {
  /** The server's time of taking the lock (when this put began, on the cluster's clock), if the server says. */
  acquiredAt?: string;
  /** Aborted, with a LockLostError, once the lease is lost: the waits of the holder end at once. */
  signal: AbortSignal;
  /** The cluster for the holder's writes: each one throws LockLostError once the lease is lost (fencing). */
  fence(cluster: ClusterApi): ClusterApi;
  release(): Promise<void>;
}

/**
 * The lease was taken over, deleted, or not renewed for its whole duration (another put may hold it now): the holder
 * writes nothing more. Exit 4, as a conflict.
 */
export class LockLostError extends ApiRejectedError {
  constructor(app: string, namespace: string, why: string) {
    super(
      `lost the lock of release ${app} in namespace ${namespace} (lease/${lockName(app)} ${why}); stopped before ` +
        'writing anything more: another put may be deploying it now (run this put again once it is done)',
      409,
    );
  }
}

export interface LockOptions {
  cluster: ClusterApi;
  namespace: string;
  app: string;
  holder: string;
  log: Logger;
  /** The operation's deadline: waiting for another holder takes from the same budget as the rest of the put. */
  deadline: Deadline;
  clock: Clock;
  signal?: AbortSignal;
  /** Seconds a holder's lease lasts without renewal (renewed every third of it). */
  leaseSeconds?: number;
  pollMs?: number;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
}

export const lockName = (app: string) => `kdr-lock.${app}`;

const microTime = (ms: number) => new Date(ms).toISOString().replace('Z', '000Z');

function leaseObject(options: LockOptions, now: number, resourceVersion?: string): KubeObject {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: lockName(options.app),
      namespace: options.namespace,
      labels: { [labelKeys.instance]: options.app, [labelKeys.managedBy]: managedBy },
      ...(resourceVersion ? { resourceVersion } : {}),
    },
    spec: {
      holderIdentity: options.holder,
      leaseDurationSeconds: options.leaseSeconds ?? 30,
      acquireTime: microTime(now),
      renewTime: microTime(now),
    },
  };
}

function expired(lease: KubeObject, now: number): boolean {
  const spec = (lease as { spec?: LeaseSpec }).spec ?? {};
  const renewed = Date.parse(spec.renewTime ?? spec.acquireTime ?? '');
  if (!Number.isFinite(renewed)) return true;
  return renewed + (spec.leaseDurationSeconds ?? 30) * 1000 < now;
}

const isConflict = (error: unknown) => error instanceof ApiRejectedError && error.status === 409;

const leaseKey = (options: LockOptions) => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  namespace: options.namespace,
  name: lockName(options.app),
});

const holderOf = (lease: KubeObject | undefined) => (lease as { spec?: LeaseSpec } | undefined)?.spec?.holderIdentity;

export async function acquireReleaseLock(options: LockOptions): Promise<ReleaseLock> {
  const { log, namespace, app } = options;
  const { name } = leaseKey(options);
  let lastHolder = '';
  return pollUntil(
    async () => {
      try {
        const attempt = await takeLease(options);
        if ('lock' in attempt) return attempt.lock;
        if (attempt.heldBy !== lastHolder)
          log.info(
            `waiting for ${attempt.heldBy} to finish with release ${app} in namespace ${namespace} (lease/${name})`,
          );
        lastHolder = attempt.heldBy;
      } catch (error) {
        // Someone else created or renewed it between our read and write: look again.
        if (!isConflict(error)) throw error;
      }
      return undefined;
    },
    {
      deadline: options.deadline,
      clock: options.clock,
      signal: options.signal,
      intervalMs: options.pollMs ?? 2000,
      waitingFor: () => `waiting for ${lastHolder || 'another put'} to release lease/${name} in namespace ${namespace}`,
    },
  );
}

/** One try at the lease: ours (created, or taken over once it expired), or who holds it now. */
async function takeLease(options: LockOptions): Promise<{ lock: ReleaseLock } | { heldBy: string }> {
  const { cluster, log, clock } = options;
  for (;;) {
    const now = clock.now();
    // Create first: the common case (nobody else deploying) costs one request.
    const created = await cluster.create(leaseObject(options, now)).catch((error: unknown) => {
      if (isConflict(error)) return undefined;
      if (error instanceof ApiRejectedError && error.status === 404) {
        throw new ApiRejectedError(
          `namespace ${options.namespace} does not exist (set params.create_namespace: true to create it)`,
          404,
        );
      }
      throw error;
    });
    if (created) return { lock: holdLease(options, created) };
    const current = await cluster.read(leaseKey(options));
    if (!current) continue; // released between our two requests: try again at once
    if (!expired(current, now)) return { heldBy: holderOf(current) ?? 'another put' };
    const mine = await cluster.replace(leaseObject(options, now, current.metadata.resourceVersion as string));
    log.info(`took over the expired lock of release ${options.app} from ${holderOf(current) ?? 'an unknown holder'}`);
    return { lock: holdLease(options, mine) };
  }
}

/** Holds the lease: renews it every third of its duration, and says (signal, fenced writes) once it is lost. */
function holdLease(options: LockOptions, lease: KubeObject): ReleaseLock {
  const { cluster, log, app, namespace, clock } = options;
  const durationMs = (options.leaseSeconds ?? 30) * 1000;
  let current = lease;
  // When the lease was last written by us, on our clock: past it by its duration, another put may take it over.
  let renewedAt = clock.now();
  let stopped = false;
  let lost: LockLostError | undefined;
  let renewing: Promise<void> = Promise.resolve();
  const lostController = new AbortController();
  let timer: unknown;
  const lose = (why: string) => {
    if (lost) return;
    lost = new LockLostError(app, namespace, why);
    log.warn(lost.message);
    lostController.abort(lost);
  };
  /** Throws once the lease is lost, also when the renewal timer has not said so yet (a blocked event loop). */
  const assertHeld = () => {
    if (!lost && clock.now() - renewedAt > durationMs)
      lose(`not renewed for ${Math.round((clock.now() - renewedAt) / 1000)}s`);
    if (lost) throw lost;
  };
  const renew = async () => {
    if (stopped || lost) return;
    const now = clock.now();
    const spec = { ...(current as { spec?: LeaseSpec }).spec, renewTime: microTime(now) };
    try {
      current = await cluster.replace({ ...current, spec } as KubeObject);
      renewedAt = now;
    } catch (error) {
      log.warn(`could not renew lease/${lockName(app)}: ${(error as Error).message}`);
      if (error instanceof ApiRejectedError && (error.status === 409 || error.status === 404)) {
        const after = await afterRefusedRenewal(options, current);
        if ('lease' in after) current = after.lease;
        else lose(after.lost);
      } else {
        if (clock.now() - renewedAt > durationMs) lose(`not renewed for ${Math.round(durationMs / 1000)}s`);
      }
    }
  };
  // Renewal alone must not keep the process alive.
  const schedule = () => {
    timer = clock.setTimeout(() => {
      renewing = renew().finally(() => {
        if (!stopped && !lost) schedule();
      });
    }, durationMs / 3);
    (timer as { unref?: () => void } | undefined)?.unref?.();
  };
  schedule();
  const acquiredAt = appliedAt(lease) ?? (lease.metadata.creationTimestamp as string | undefined);
  return {
    ...(acquiredAt ? { acquiredAt } : {}),
    signal: lostController.signal,
    fence: (target) => fenceWrites(target, assertHeld),
    async release() {
      stopped = true;
      clock.clearTimeout(timer);
      await renewing;
      if (lost) return; // not ours any more: the holder now releases it
      await removeLease(options, current);
    },
  };
}

/**
 * Someone else wrote or deleted the lease (a renewal refused with 409 or 404): it is theirs now, unless it still
 * names us (then carry on with it as it is).
 */
async function afterRefusedRenewal(
  options: LockOptions,
  current: KubeObject,
): Promise<{ lease: KubeObject } | { lost: string }> {
  const latest = await options.cluster.read(leaseKey(options)).catch(() => undefined);
  const holder = holderOf(latest);
  if (latest && latest.metadata.uid === current.metadata.uid && holder === options.holder) return { lease: latest };
  return { lost: latest ? `taken over by ${holder ?? 'another holder'}` : 'deleted by someone else' };
}

const writeVerbs = ['apply', 'create', 'replace', 'patchMetadata', 'remove'] as const;

/** The cluster with each write checked by `assertHeld` first (fencing: nothing is written once the lease is lost). */
function fenceWrites(target: ClusterApi, assertHeld: () => void): ClusterApi {
  const fenced: ClusterApi = { ...target, detached: () => fenceWrites(target.detached(), assertHeld) };
  for (const verb of writeVerbs) {
    const write = target[verb] as (...args: unknown[]) => Promise<unknown>;
    (fenced as unknown as Record<string, unknown>)[verb] = (...args: unknown[]) => {
      assertHeld();
      return write.apply(target, args);
    };
  }
  return fenced;
}

/**
 * Released even when the put was aborted: detached from the abort signal. Only the lease as we last wrote it
 * (preconditions): one taken over meanwhile is the new holder's. A lease left behind is taken over once it expires;
 * say so, so a slow next put is understood.
 */
async function removeLease(options: LockOptions, lease: KubeObject): Promise<void> {
  const { cluster, log, app } = options;
  const uid = lease.metadata.uid as string | undefined;
  const resourceVersion = lease.metadata.resourceVersion as string | undefined;
  await cluster
    .detached()
    .remove(leaseKey(options), 'Background', {
      ...(uid ? { uid } : {}),
      ...(resourceVersion ? { resourceVersion } : {}),
    })
    .catch((error: Error) =>
      log.warn(
        error instanceof ApiRejectedError && error.status === 409
          ? `lease/${lockName(app)} was taken over by another put before this one released it: left to it`
          : `could not release lease/${lockName(app)} (the next put takes it over once it expires): ${error.message}`,
      ),
    );
}

/** The target as its lock's holder works on it: fenced writes, and waits that end once the lease is lost. */
export function underLock<T extends { cluster: ClusterApi; signal?: AbortSignal }>(target: T, lock: ReleaseLock): T {
  return {
    ...target,
    cluster: lock.fence(target.cluster),
    signal: target.signal ? AbortSignal.any([target.signal, lock.signal]) : lock.signal,
  };
}
