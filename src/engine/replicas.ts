// replicas: auto — the put hands spec.replicas of the app's Deployment over instead of setting it, as the Kubernetes
// documentation on server-side apply describes ("Transferring ownership", from a user to an autoscaler): a private
// field manager applies only the current replica count (no force), then our apply leaves the field out. The field is
// then co-owned, so dropping it from our config keeps its value instead of resetting it to the default 1; the next
// write by the autoscaler (or `kubectl scale`) takes it over and the private manager's entry goes away by itself.
import type { ClusterApi } from '../cluster/api.js';
import { ApiRejectedError } from '../errors.js';
import { product } from '../kube/labels.js';
import { objectRef, type KubeObject } from '../kube/object.js';
import type { Logger } from '../log.js';

/** The private field manager that holds spec.replicas for the moment our manager lets go of it. */
export const replicasHandoverManager = `${product}-handover`;

type ManagedField = { manager?: unknown; operation?: unknown; fieldsV1?: { 'f:spec'?: { 'f:replicas'?: unknown } } };

const isDeployment = (o: KubeObject) => o.kind === 'Deployment' && o.apiVersion === 'apps/v1';
const replicasOf = (o: KubeObject) => (o.spec as { replicas?: unknown } | undefined)?.replicas;

/**
 * The replica count to hand over when `desired` leaves spec.replicas out while our manager's apply still owns it on the
 * live object; undefined when nothing needs handing over. managedFields come from the cluster: only read, never
 * trusted beyond "do one more apply of the value that is there".
 */
export function replicasToHandOver(desired: KubeObject, live: KubeObject | undefined): number | undefined {
  if (!live || !isDeployment(desired) || replicasOf(desired) !== undefined) return undefined;
  const replicas = replicasOf(live);
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) return undefined;
  const managed = live.metadata.managedFields;
  const ours = Array.isArray(managed)
    ? (managed as ManagedField[]).some(
        (m) =>
          m?.manager === product && m.operation === 'Apply' && m.fieldsV1?.['f:spec']?.['f:replicas'] !== undefined,
      )
    : false;
  return ours ? replicas : undefined;
}

/** The hand-over apply; a conflict means another manager took the field already: nothing left to hand over. */
export async function handOverReplicas(
  cluster: ClusterApi,
  desired: KubeObject,
  replicas: number,
  log: Logger,
): Promise<void> {
  const { apiVersion, kind, metadata } = desired;
  const partial = {
    apiVersion,
    kind,
    metadata: { name: metadata.name, namespace: metadata.namespace },
    spec: { replicas },
  };
  try {
    await cluster.apply(partial, { as: replicasHandoverManager });
    log.info(
      `${objectRef(desired)}: handing spec.replicas (${replicas}) over (replicas: auto): a put no longer sets it`,
    );
  } catch (error) {
    if (!(error instanceof ApiRejectedError && error.status === 409)) throw error;
    log.info(`${objectRef(desired)}: spec.replicas is already owned by another field manager (replicas: auto)`);
  }
}
