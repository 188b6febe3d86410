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
  release(): Promise<void>;
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

function holdLease(options: LockOptions, lease: KubeObject, clock: Clock): ReleaseLock {
  let current = lease;
  let stopped = false;
  const every = ((options.leaseSeconds ?? 30) * 1000) / 3;
  let timer: unknown;
  const renew = () => {
    if (stopped) return;
    const spec = { ...(current as { spec?: LeaseSpec }).spec, renewTime: microTime(clock.now()) };
    options.cluster
      .replace({ ...current, spec } as KubeObject)
      .then((updated) => {
        current = updated;
      })
      .catch((error: Error) => options.log.warn(`could not renew lease/${lockName(options.app)}: ${error.message}`))
      .finally(() => {
        if (!stopped) schedule();
      });
  };
  // Renewal alone must not keep the process alive.
  const schedule = () => {
    timer = clock.setTimeout(renew, every);
    (timer as { unref?: () => void } | undefined)?.unref?.();
  };
  schedule();
  const acquiredAt = appliedAt(lease) ?? (lease.metadata.creationTimestamp as string | undefined);
  return {
    ...(acquiredAt ? { acquiredAt } : {}),
    async release() {
      stopped = true;
      clock.clearTimeout(timer);
      // Released even when the put was aborted: detached from the abort signal.
      // A lease left behind is taken over once it expires; say so, so a slow next put is understood.
      await options.cluster
        .detached()
        .remove(
          {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            namespace: options.namespace,
            name: lockName(options.app),
          },
          'Background',
        )
        .catch((error: Error) =>
          options.log.warn(
            `could not release lease/${lockName(options.app)} (the next put takes it over once it expires): ` +
              `${error.message}`,
          ),
        );
    },
  };
}
