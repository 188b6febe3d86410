import type { ClusterApi } from '../cluster/api.js';
import { ApiRejectedError } from '../errors.js';
import type { Logger } from '../log.js';
import { labelKeys, managedBy, ourKey } from '../kube/labels.js';
import type { KubeObject } from '../kube/object.js';

/** Label on namespaces this resource created: only those may be deleted by `delete_namespace`. */
export const createdForLabel = ourKey('created-for');

/**
 * With create_namespace: makes sure the namespace is there. Without it nothing is asked: the first namespaced write
 * (the release's lock) tells a missing namespace apart, one request fewer on every put.
 */
export async function ensureNamespace(
  cluster: ClusterApi,
  name: string,
  create: boolean,
  app: string,
  log: Logger,
): Promise<void> {
  if (!create) return;
  const existing = await cluster.read({ apiVersion: 'v1', kind: 'Namespace', name });
  if (existing) {
    if ((existing as { status?: { phase?: string } }).status?.phase === 'Terminating') {
      throw new ApiRejectedError(
        `namespace ${name} is being deleted (Terminating); wait for it to go or deploy to another namespace`,
      );
    }
    return;
  }
  const namespace: KubeObject = {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { [labelKeys.managedBy]: managedBy, [createdForLabel]: app } },
  };
  await cluster.create(namespace).catch((error: unknown) => {
    // Created meanwhile by a concurrent put: fine.
    if (error instanceof ApiRejectedError && error.status === 409) return;
    throw error;
  });
  log.info(`created namespace ${name}`);
}

export function createdByUs(namespace: KubeObject, app: string): boolean {
  const labels = namespace.metadata.labels ?? {};
  return labels[labelKeys.managedBy] === managedBy && labels[createdForLabel] === app;
}
