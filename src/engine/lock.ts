// One put per release at a time: a coordination.k8s.io Lease per app and namespace, as Kubernetes components elect
// leaders. A second put waits for the first (progress lines) until `timeout`; a holder that died is taken over once
// its lease has expired.
import type { ClusterApi } from '../cluster/api.js';
import { ApiRejectedError } from '../errors.js';
import type { Logger } from '../log.js';
import { labelKeys, managedBy } from '../kube/labels.js';
import type { KubeObject } from '../kube/object.js';
import { appliedAt } from '../rollout/snapshot.js';
import { sleep, type Clock, type Deadline } from '../time.js';

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

export async function acquireReleaseLock(options: LockOptions): Promise<ReleaseLock> {
  const { cluster, log } = options;
  const { clock, deadline } = options;
  const key = {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    namespace: options.namespace,
    name: lockName(options.app),
  };
  let lastHolder = '';
  for (;;) {
    const now = clock.now();
    try {
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
      if (created) return holdLease(options, created, clock);
      const current = await cluster.read(key);
      if (!current) continue; // released between our two requests: try again at once
      if (expired(current, now)) {
        const mine = await cluster.replace(leaseObject(options, now, current.metadata.resourceVersion as string));
        log.info(
          `took over the expired lock of release ${options.app} ` +
            `from ${(current as { spec?: LeaseSpec }).spec?.holderIdentity ?? 'an unknown holder'}`,
        );
        return holdLease(options, mine, clock);
      }
      const holder = (current as { spec?: LeaseSpec }).spec?.holderIdentity ?? 'another put';
      if (holder !== lastHolder)
        log.info(
          `waiting for ${holder} to finish with release ${options.app} in namespace ${options.namespace} ` +
            `(lease/${key.name})`,
        );
      lastHolder = holder;
    } catch (error) {
      // Someone else created or renewed it between our read and write: look again.
      if (!isConflict(error)) throw error;
    }
    if (deadline.expired())
      throw deadline.timedOut(
        `waiting for ${lastHolder || 'another put'} to release lease/${key.name} in namespace ${options.namespace}`,
      );
    await sleep(Math.min(options.pollMs ?? 2000, deadline.remainingMs()), clock, options.signal);
  }
}

const writeVerbs = ['apply', 'create', 'replace', 'patchMetadata', 'remove'] as const;

function holdLease(options: LockOptions, lease: KubeObject, clock: Clock): ReleaseLock {
  const { cluster, log, app, namespace } = options;
  const key = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', namespace, name: lockName(app) };
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
        // Someone else wrote or deleted the lease: it is theirs now, unless it still names us (then carry on).
        const latest = await cluster.read(key).catch(() => undefined);
        const holder = (latest as { spec?: LeaseSpec } | undefined)?.spec?.holderIdentity;
        if (latest && latest.metadata.uid === current.metadata.uid && holder === options.holder) current = latest;
        else lose(latest ? `taken over by ${holder ?? 'another holder'}` : 'deleted by someone else');
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
  const fence = (target: ClusterApi): ClusterApi => {
    const fenced: ClusterApi = { ...target, detached: () => fence(target.detached()) };
    for (const verb of writeVerbs) {
      const write = target[verb] as (...args: unknown[]) => Promise<unknown>;
      (fenced as unknown as Record<string, unknown>)[verb] = (...args: unknown[]) => {
        assertHeld();
        return write.apply(target, args);
      };
    }
    return fenced;
  };
  const acquiredAt = appliedAt(lease) ?? (lease.metadata.creationTimestamp as string | undefined);
  return {
    ...(acquiredAt ? { acquiredAt } : {}),
    signal: lostController.signal,
    fence,
    async release() {
      stopped = true;
      clock.clearTimeout(timer);
      await renewing;
      if (lost) return; // not ours any more: the holder now releases it
      // Released even when the put was aborted: detached from the abort signal. Only the lease as we last wrote it
      // (preconditions): one taken over meanwhile is the new holder's. A lease left behind is taken over once it
      // expires; say so, so a slow next put is understood.
      const uid = current.metadata.uid as string | undefined;
      const resourceVersion = current.metadata.resourceVersion as string | undefined;
      await cluster
        .detached()
        .remove(key, 'Background', { ...(uid ? { uid } : {}), ...(resourceVersion ? { resourceVersion } : {}) })
        .catch((error: Error) =>
          log.warn(
            error instanceof ApiRejectedError && error.status === 409
              ? `lease/${lockName(app)} was taken over by another put before this one released it: left to it`
              : `could not release lease/${lockName(app)} (the next put takes it over once it expires): ` +
                  `${error.message}`,
          ),
        );
    },
  };
}

/** The target as its lock's holder works on it: fenced writes, and waits that end once the lease is lost. */
export function underLock<T extends { cluster: ClusterApi; signal?: AbortSignal }>(target: T, lock: ReleaseLock): T {
  return {
    ...target,
    cluster: lock.fence(target.cluster),
    signal: target.signal ? AbortSignal.any([target.signal, lock.signal]) : lock.signal,
  };
}
