import { createHash } from 'node:crypto';
import type { ClusterApi } from '../cluster/api.js';
import { ApiRejectedError } from '../errors.js';
import type { Logger } from '../log.js';
import { labelKeys, managedBy, ourKey } from '../kube/labels.js';
import type { KubeObject } from '../kube/object.js';

/** Label on namespaces this resource created: only those may be deleted by `delete_namespace`. */
export const createdForLabel = ourKey('created-for');
/** Label on namespaces this resource created: which resource (its scope) did; a sweep acts only inside its own. */
export const scopeLabel = ourKey('scope');
/** The same scope, readable: which cluster, source namespace, team and pipeline. */
export const scopeAnnotation = ourKey('scope-of');

/**
 * What tells one resource from another for a sweep: the cluster, the source's namespace, the Concourse team and
 * pipeline (with its instance vars). A put that creates a namespace stamps it; a sweep of another resource (another
 * pipeline's `web`, a production resource) has another scope and never touches it.
 */
export interface ResourceScope {
  /** 32 hex digits: a label value. */
  id: string;
  description: string;
}

export function resourceScope(parts: {
  server: string;
  sourceNamespace: string;
  team?: string;
  pipeline?: string;
  instanceVars?: string;
}): ResourceScope {
  const fields = [
    parts.server,
    parts.sourceNamespace,
    parts.team ?? '',
    parts.pipeline ?? '',
    parts.instanceVars ?? '',
  ];
  const id = createHash('sha256').update(JSON.stringify(fields)).digest('hex').slice(0, 32);
  const description =
    `cluster ${parts.server}, source namespace ${parts.sourceNamespace}, ` +
    `team ${parts.team || '(none)'}, pipeline ${parts.pipeline || '(none)'}` +
    (parts.instanceVars ? ` ${parts.instanceVars}` : '');
  return { id, description };
}

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
  scope?: ResourceScope,
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
    metadata: {
      name,
      labels: {
        [labelKeys.managedBy]: managedBy,
        [createdForLabel]: app,
        ...(scope ? { [scopeLabel]: scope.id } : {}),
      },
      ...(scope ? { annotations: { [scopeAnnotation]: scope.description.slice(0, 1024) } } : {}),
    },
  };
  await cluster.create(namespace).catch((error: unknown) => {
    // Created meanwhile by a concurrent put: fine.
    if (error instanceof ApiRejectedError && error.status === 409) return;
    throw error;
  });
  log.info(`created namespace ${name}`);
}

export function createdByUs(namespace: KubeObject, app: string, scope?: ResourceScope): boolean {
  const labels = namespace.metadata.labels ?? {};
  return (
    labels[labelKeys.managedBy] === managedBy &&
    labels[createdForLabel] === app &&
    (scope === undefined || labels[scopeLabel] === scope.id)
  );
}
